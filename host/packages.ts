// Where the boot gets the two third-party agents, pinned, and how it checks them before they run: the SSM agent
// (.deb and detached signature, gpgv against a keyring from this repository) and the Datadog agent (apt
// repository signed by keys whose fingerprints are pinned here). Defaults are production's; the VM test points
// the URLs at file:// stand-ins on its data disk and brings its own keys.
import type { Problem } from "../contract/problem";
import { amazonSsmAgentKeyring } from "./keys/amazonSsmAgent";

/** The SSM agent: AWS's regional S3 distribution for Debian. */
export interface SsmAgentSource {
  /**
   * Root of the distribution; the boot fetches `<baseUrl>/<version>/debian_<amd64|arm64>/amazon-ssm-agent.deb`
   * and the same path with `.sig`. https:// or file://. Default `https://s3.<region>.amazonaws.com/amazon-ssm-<region>`.
   */
  baseUrl: string;
  /** Exact agent version, e.g. 3.3.5226.0 (default: ssmAgentVersion). */
  version: string;
  /**
   * OpenPGP keyring (binary, base64) that must have made the `.sig`; checked with gpgv before dpkg sees the
   * package. Default: AWS's current SSM Agent signing key (host/keys/amazonSsmAgent.ts).
   */
  keyring: string;
}

/** The Datadog agent: Datadog's apt repository, `stable 7`. */
export interface DatadogAgentSource {
  /** apt repository, https:// or file:// (default https://apt.datadoghq.com/). */
  aptUrl: string;
  /**
   * Where the repository's public keys are: `<keysUrl>/DATADOG_APT_KEY_<last 8 hex of the fingerprint>.public`,
   * armored, one per fingerprint. https:// or file:// (default https://keys.datadoghq.com).
   */
  keysUrl: string;
  /**
   * The keys apt may trust for the repository (signed-by), 40 hex digits each: a fetched key whose fingerprint
   * is not the pinned one stops the boot. Default: datadogKeyFingerprints.
   */
  keyFingerprints: string[];
  /** Exact agent version, e.g. 7.84.2; the boot installs `datadog-agent=1:<version>-1` and holds it. */
  version: string;
}

/** SSM agent release pinned by default (September 2026, signed with the 2026 key). */
export const ssmAgentVersion = "3.3.5226.0";

/** Datadog agent release pinned by default. */
export const datadogAgentVersion = "7.84.2";

/**
 * Datadog's apt repository keys (docs.datadoghq.com, Agent security: "Linux DEB packages and repository
 * metadata"): C0962C7D signs the repository since the June 2024 rotation (expires 2028), 06462314 is the
 * announced next one (expires 2033), F14F620E the previous one (expires 2032).
 */
export const datadogKeyFingerprints = [
  "5F1E256061D813B125E156E8E6266D4AC0962C7D",
  "D18886567EABAD8B2D2526900D826EB906462314",
  "D75CEA17048B9ACBF186794B32637D44F14F620E",
] as const;

export function withSsmAgentDefaults(region: string, o: Partial<SsmAgentSource> = {}): SsmAgentSource {
  return {
    baseUrl: o.baseUrl ?? `https://s3.${region}.amazonaws.com/amazon-ssm-${region}`,
    version: o.version ?? ssmAgentVersion,
    keyring: o.keyring ?? amazonSsmAgentKeyring,
  };
}

export function withDatadogAgentDefaults(o: Partial<DatadogAgentSource> = {}): DatadogAgentSource {
  return {
    aptUrl: o.aptUrl ?? "https://apt.datadoghq.com/",
    keysUrl: o.keysUrl ?? "https://keys.datadoghq.com",
    keyFingerprints: [...(o.keyFingerprints ?? datadogKeyFingerprints)],
    version: o.version ?? datadogAgentVersion,
  };
}

// No http://: everything the boot fetches comes over TLS (or from a local file in the VM test).
const sourceUrl = /^(https:\/\/[A-Za-z0-9.-]+(:\d+)?|file:\/\/)(\/[A-Za-z0-9._~%/-]*)?$/;

/** Problems with the agent sources, each naming its field; empty when valid. */
export function checkAgentSources(s: SsmAgentSource, d: DatadogAgentSource): Problem[] {
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const url = (field: string, v: string) => {
    if (!sourceUrl.test(v)) problem(field, `"${v}" must be an https:// or file:// URL`);
  };
  url("ssmAgent.baseUrl", s.baseUrl);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(s.version))
    problem("ssmAgent.version", `"${s.version}" must be an exact SSM agent version like 3.3.5226.0`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s.keyring) || s.keyring.length % 4 !== 0)
    problem("ssmAgent.keyring", "must be a binary OpenPGP keyring in base64");
  url("datadogAgent.aptUrl", d.aptUrl);
  url("datadogAgent.keysUrl", d.keysUrl);
  if (!/^\d+\.\d+\.\d+$/.test(d.version))
    problem("datadogAgent.version", `"${d.version}" must be an exact agent version like 7.84.2`);
  if (d.keyFingerprints.length === 0) problem("datadogAgent.keyFingerprints", "give at least one key fingerprint");
  d.keyFingerprints.forEach((f, n) => {
    if (!/^[0-9A-F]{40}$/.test(f))
      problem(`datadogAgent.keyFingerprints[${n}]`, `"${f}" must be 40 uppercase hex digits (a v4 fingerprint)`);
  });
  return problems;
}

/** Where the boot keeps the keyrings it trusts. */
export const keyrings = {
  ssmAgent: "/usr/share/keyrings/amazon-ssm-agent.gpg",
  datadog: "/usr/share/keyrings/datadog-archive-keyring.gpg",
} as const;

/**
 * Shell: the SSM agent, first of all, so that a host whose boot fails later can still be reached through
 * Session Manager. The package is refused unless the detached signature verifies against the keyring.
 */
export function renderSsmAgentInstall(): string {
  return `install_ssm_agent() {
  local dir deb
  if [ "$(dpkg-query -W -f '\${Version}' amazon-ssm-agent 2>/dev/null)" != "$ssm_agent_version-1" ]; then
    command -v curl >/dev/null 2>&1 || apt_install curl
    install -d -m 0755 /usr/share/keyrings
    printf '%s' "$ssm_agent_keyring" | base64 -d > ${keyrings.ssmAgent}
    dir=$(mktemp -d)
    deb="$ssm_agent_url/$ssm_agent_version/debian_$(dpkg --print-architecture)/amazon-ssm-agent.deb"
    fetch "$deb" "$dir/amazon-ssm-agent.deb"
    fetch "$deb.sig" "$dir/amazon-ssm-agent.deb.sig"
    gpgv --keyring ${keyrings.ssmAgent} "$dir/amazon-ssm-agent.deb.sig" "$dir/amazon-ssm-agent.deb"
    dpkg -i "$dir/amazon-ssm-agent.deb"
    rm -rf "$dir"
  fi
  systemctl enable amazon-ssm-agent.service
  systemctl restart amazon-ssm-agent.service
}
step ssm-agent install_ssm_agent
`;
}

/**
 * Shell: the Datadog agent, after the secrets (its unit needs the API key file from its first start), from
 * Datadog's repository trusted only through the pinned keys, at the pinned version, held there.
 */
export function renderDatadogInstall(): string {
  return `install_datadog_agent() {
  local dir fpr primary
  if [ "$(dpkg-query -W -f '\${Version}' datadog-agent 2>/dev/null)" != "1:$datadog_version-1" ]; then
    dir=$(mktemp -d)
    : > "$dir/keyring"
    for fpr in $datadog_key_fingerprints; do
      fetch "$datadog_keys_url/DATADOG_APT_KEY_\${fpr: -8}.public" "$dir/$fpr.asc"
      # exactly one primary key, the pinned one
      primary=$(GNUPGHOME="$dir" gpg --batch --show-keys --with-colons "$dir/$fpr.asc" | awk -F: '$1 == "pub" { n++; getline; print $10 } END { if (n != 1) print "" }')
      if [ "$primary" != "$fpr" ]; then log "DATADOG_APT_KEY_\${fpr: -8}: not the pinned key $fpr"; return 1; fi
      GNUPGHOME="$dir" gpg --batch --yes --dearmor --output "$dir/$fpr.gpg" "$dir/$fpr.asc"
      cat "$dir/$fpr.gpg" >> "$dir/keyring"
    done
    install -m 0644 "$dir/keyring" ${keyrings.datadog}
    rm -rf "$dir"
    echo "deb [signed-by=${keyrings.datadog}] $datadog_apt_url stable 7" > /etc/apt/sources.list.d/datadog.list
    apt_updated=no
    apt_install "datadog-agent=1:$datadog_version-1"
  fi
  apt-mark hold datadog-agent >/dev/null
}
step datadog-agent install_datadog_agent
`;
}
