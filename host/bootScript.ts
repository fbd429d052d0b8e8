// The script cloud-init runs once the files are written: installs what is missing, fetches the secrets
// from SSM, prepares the host's program (the service: its user and folders; or HAProxy), starts the
// units and, last, the program: the service's release 1 goes through its deploy script, the same step
// every rollout runs. Every step is idempotent, so a re-run (or an image with everything installed) is safe.
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { HostBase, HostInput } from "./input";
import { renderPapertrailAction } from "./rsyslog";

/** Single-quoted shell word. Inputs are validated by checkHostInput; this keeps them inert anyway. */
const q = (s: string | number) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** What the boot script does for the host's program, around the shared packages, secrets and units. */
export interface BootProgram {
  /** Where the script lands; its file name prefixes its messages. */
  path: string;
  /** Shell variables of the program, set after the shared ones. */
  vars: Record<string, string | number>;
  /** Debian packages installed when missing, besides rsyslog, logrotate, the AWS CLI and the agent. */
  debs: string[];
  /** Shell tests, true when the program installs from an extra apt repository (needs curl and gnupg). */
  needsRepo: string[];
  /** Shell run after the packages, e.g. Node.js from its repository. */
  install: string;
  /** Shell: the program's users and folders. */
  folders: string;
  /** Shell run after the secrets, before the units start, e.g. checking the program's config. */
  activate: string;
  /** Its systemd unit, enabled and restarted last. */
  unit: string;
  /** Shell that starts the unit, last, instead of enabling and restarting it; must exit non-zero when it does not start. */
  start?: string;
}

/** The Node service: its user, Node.js, and release 1 installed and started by the deploy script. */
export function serviceBootProgram(i: HostInput): BootProgram {
  const p = hostPaths(i.service.name);
  return {
    path: p.bootScript,
    vars: {
      service: i.service.name,
      version: i.version,
      bundle_url: i.bundle.url,
      bundle_sha256: i.bundle.sha256,
      runtime_url: i.runtime.url,
      runtime_sha256: i.runtime.sha256,
      node_bin: nodeBinaryPath(i.runtime.version),
    },
    debs: [],
    needsRepo: [],
    // The runtime CI tested, from the release bucket, checked like the bundle.
    install: `if [ ! -x "$node_bin" ] || [ "$(sha256sum "$node_bin" | cut -d' ' -f1)" != "$runtime_sha256" ]; then
  log "installing Node.js from $runtime_url"
  tmp_node=$(mktemp)
  aws s3 cp --region "$region" --only-show-errors "$runtime_url" "$tmp_node"
  [ "$(sha256sum "$tmp_node" | cut -d' ' -f1)" = "$runtime_sha256" ] || { log "$runtime_url: sha256 mismatch"; exit 1; }
  install -D -m 0755 -o root -g root "$tmp_node" "$node_bin"
  rm -f "$tmp_node"
fi
`,
    folders: `getent group "$service" >/dev/null || groupadd --system "$service"
getent passwd "$service" >/dev/null ||
  useradd --system --gid "$service" --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$service"
install -d -m 0755 -o root -g root ${p.root} ${p.releases}
install -d -m 0750 -o root -g adm ${p.logDir}
`,
    activate: "",
    unit: `${i.service.name}.service`,
    // Release 1 through the deploy step the rollouts use: fetch, check, link, start, wait until ready.
    // When it fails, the deploy step leaves the service stopped and unlinked; the unit is enabled only
    // after it succeeded, so a host whose first install failed never answers, not even after a reboot.
    start: `
# --- release 1: installed, started and checked by the deploy script, as every later release ---
log "installing release $version with ${p.deployScript}"
if ! ${p.deployScript} --source "$bundle_url" --sha256 "$bundle_sha256" --version "$version"; then
  log "release $version did not install; $service is stopped and not enabled"
  exit 1
fi
systemctl enable ${q(`${i.service.name}.service`)}
`,
  };
}

export function renderBootScript(i: HostInput): string {
  return renderHostBootScript(i, serviceBootProgram(i));
}

export function renderHostBootScript(i: HostBase, program: BootProgram): string {
  const p = hostPaths(i.service.name);
  const vars = Object.entries(program.vars)
    .map(([k, v]) => `${k}=${q(v)}\n`)
    .join("");
  const me = program.path.slice(program.path.lastIndexOf("/") + 1);
  return `#!/bin/bash
# ${program.path}: rendered by host/bootScript.ts, run by cloud-init at first boot.
set -euo pipefail
umask 022

region=${q(i.region)}
ssm_datadog_api_key=${q(i.ssm.datadogApiKey)}
ssm_papertrail_destination=${q(i.ssm.papertrailDestination)}
${vars}
log() { echo "${me}: $*" >&2; }

# --- packages: each installed only when missing (images may ship them) ---
# The hosts' egress is HTTPS only: apt reads Debian's mirrors over https (Debian's cloud images ship ca-certificates).
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources /etc/apt/mirrors/*.list; do
  if [ -f "$f" ]; then sed -i -E 's#http://((cdn-aws\\.)?deb\\.debian\\.org|security\\.debian\\.org)#https://\\1#g' "$f"; fi
done
apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then apt-get update -q; apt_updated=yes; fi
  # confold: a config file cloud-init wrote before its package arrives stays as rendered.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
missing_debs() {
  local pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done
}
add_apt_repo() { # name key_url "deb line"
  local keyring="/usr/share/keyrings/$1.gpg"
  [ -s "$keyring" ] || curl -fsSL "$2" | gpg --dearmor --yes -o "$keyring"
  echo "deb [signed-by=$keyring] $3" > "/etc/apt/sources.list.d/$1.list"
  apt_updated=no
}

mapfile -t debs < <(missing_debs ca-certificates rsyslog rsyslog-gnutls logrotate${program.debs.map((d) => ` ${d}`).join("")})
command -v aws >/dev/null 2>&1 || debs+=(awscli)
if ${[...program.needsRepo, "! dpkg -s datadog-agent >/dev/null 2>&1"].join(" || ")}; then
  mapfile -t -O "\${#debs[@]}" debs < <(missing_debs curl gnupg)
fi
if [ \${#debs[@]} -gt 0 ]; then log "installing \${debs[*]}"; apt_install "\${debs[@]}"; fi

${program.install}if ! dpkg -s datadog-agent >/dev/null 2>&1; then
  log "installing datadog-agent"
  add_apt_repo datadog-archive-keyring https://keys.datadoghq.com/DATADOG_APT_KEY_CURRENT.public "https://apt.datadoghq.com/ stable 7"
  apt_install datadog-agent
fi

# --- users and folders ---
${program.folders}install -d -m 0700 -o root -g root ${p.secrets}
# the agent reads the program's journal entries
if getent passwd dd-agent >/dev/null; then usermod -a -G systemd-journal dd-agent; fi

# --- secrets: SSM SecureString -> root-only 0600 files, each value in exactly one file ---
ssm_get() {
  aws ssm get-parameter --region "$region" --with-decryption --name "$1" --query Parameter.Value --output text
}
write_secret() { # path content: created 0600 under a temporary name, then renamed into place
  local tmp
  tmp=$(umask 077 && mktemp "$1.XXXXXX")
  printf '%s\\n' "$2" > "$tmp"
  mv -f "$tmp" "$1"
}

dd_api_key=$(ssm_get "$ssm_datadog_api_key")
[[ "$dd_api_key" =~ ^[A-Za-z0-9]{16,64}$ ]] || { log "SSM $ssm_datadog_api_key: not a Datadog API key"; exit 1; }
write_secret ${p.datadogEnvFile} "DD_API_KEY=$dd_api_key"
unset dd_api_key

papertrail=$(ssm_get "$ssm_papertrail_destination")
if ! [[ "$papertrail" =~ ^([A-Za-z0-9][A-Za-z0-9.-]*):([0-9]{1,5})$ ]]; then
  log "SSM $ssm_papertrail_destination: expected host:port"; exit 1
fi
pt_host=\${BASH_REMATCH[1]}
pt_port=\${BASH_REMATCH[2]}
write_secret ${p.papertrailInclude} "$(cat <<RSYSLOG
# Papertrail forwarding, written by ${program.path} from SSM $ssm_papertrail_destination
${renderPapertrailAction(i, { host: "${pt_host}", port: "${pt_port}" }).trimEnd()}
RSYSLOG
)"
unset papertrail pt_host pt_port

${program.activate && `${program.activate}\n`}# --- units ---
rsyslogd -N1 >/dev/null
systemctl daemon-reload
systemctl restart rsyslog.service
systemctl enable logrotate.timer
systemctl restart logrotate.timer
if systemctl cat datadog-agent.service >/dev/null 2>&1; then
  systemctl enable datadog-agent.service
  systemctl restart datadog-agent.service
fi
${program.start ?? `systemctl enable ${q(program.unit)}\nsystemctl restart ${q(program.unit)}\n`}log "${program.unit} started"
`;
}
