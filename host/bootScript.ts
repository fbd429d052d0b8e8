// The script cloud-init runs once the files are written: installs what is missing, fetches the secrets
// from SSM, prepares the host's program (the service: its user and folders; or HAProxy), starts the
// units and, last, the program: the service's release 1 goes through its deploy script, the same step
// every rollout runs. Every step is idempotent, so a re-run (or an image with everything installed) is safe.
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { HostBase, HostInput } from "./input";
import { renderDatadogInstall, renderSsmAgentInstall } from "./packages";
import { renderPapertrailAction } from "./rsyslog";

/** Single-quoted shell word. Inputs are validated by checkHostInput; this keeps them inert anyway. */
const q = (s: string | number) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** What the boot script does for the host's program, around the shared packages, secrets and units. */
export interface BootProgram {
  /** Where the script lands; its file name prefixes its messages. */
  path: string;
  /** Shell variables of the program, set after the shared ones. */
  vars: Record<string, string | number>;
  /** Debian packages installed when missing, besides rsyslog, logrotate, gnupg and the AWS CLI. */
  debs: string[];
  /** Shell run after the packages, e.g. the runtime; a download in it goes through `fetch` or `retry`. */
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
    // The runtime CI tested, from the release bucket, checked like the bundle before it is installed.
    install: `install_runtime() {
  local tmp
  if [ -x "$node_bin" ] && [ "$(sha256sum "$node_bin" | cut -d' ' -f1)" = "$runtime_sha256" ]; then return 0; fi
  tmp=$(mktemp)
  retry aws s3 cp --region "$region" --only-show-errors "$runtime_url" "$tmp"
  if [ "$(sha256sum "$tmp" | cut -d' ' -f1)" != "$runtime_sha256" ]; then
    log "$runtime_url: sha256 is not $runtime_sha256"
    return 1
  fi
  install -D -m 0755 -o root -g root "$tmp" "$node_bin"
  rm -f "$tmp"
}
step runtime install_runtime
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
install_release() {
  log "installing release $version with ${p.deployScript}"
  if ! ${p.deployScript} --source "$bundle_url" --sha256 "$bundle_sha256" --version "$version"; then
    log "release $version did not install; $service is stopped and not enabled"
    return 1
  fi
  systemctl enable "$unit"
}
step release install_release
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
# ${program.path}: rendered by host/bootScript.ts, run by cloud-init at first boot. Every step logs one line
# to the journal (tag ${me}); a failed step stops the boot and leaves ${program.unit} stopped and disabled.
set -euo pipefail
umask 022

region=${q(i.region)}
ssm_datadog_api_key=${q(i.ssm.datadogApiKey)}
ssm_papertrail_destination=${q(i.ssm.papertrailDestination)}
ssm_agent_url=${q(i.ssmAgent.baseUrl.replace(/\/+$/, ""))}
ssm_agent_version=${q(i.ssmAgent.version)}
ssm_agent_keyring=${q(i.ssmAgent.keyring)}
datadog_apt_url=${q(i.datadogAgent.aptUrl)}
datadog_keys_url=${q(i.datadogAgent.keysUrl.replace(/\/+$/, ""))}
datadog_key_fingerprints=${q(i.datadogAgent.keyFingerprints.join(" "))}
datadog_version=${q(i.datadogAgent.version)}
unit=${q(program.unit)}
${vars}${renderBootHelpers(me)}
# --- the SSM agent first: a host whose boot fails later is still reachable through Session Manager ---
${renderSsmAgentInstall()}
# --- packages from Debian (signed by Debian's archive keys), each installed only when missing ---
install_packages() {
  local debs
  mapfile -t debs < <(missing_debs ca-certificates rsyslog rsyslog-gnutls logrotate gnupg${program.debs.map((d) => ` ${d}`).join("")})
  command -v aws >/dev/null 2>&1 || debs+=(awscli)
  if [ \${#debs[@]} -gt 0 ]; then apt_install "\${debs[@]}"; fi
}
step packages install_packages

${program.install}
# --- users and folders ---
section folders
${program.folders}install -d -m 0700 -o root -g root ${p.secrets}

# --- secrets: SSM SecureString -> root-only 0600 files, each value in exactly one file ---
ssm_get() {
  retry aws ssm get-parameter --region "$region" --with-decryption --name "$1" --query Parameter.Value --output text
}
write_secret() { # path content: created 0600 under a temporary name, then renamed into place
  local tmp
  tmp=$(umask 077 && mktemp "$1.XXXXXX")
  printf '%s\\n' "$2" > "$tmp"
  mv -f "$tmp" "$1"
}
section secrets

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
log "step=secrets ok duration=$((SECONDS - step_started))s"

# --- the Datadog agent, once its API key file exists: its unit reads it from the first start ---
${renderDatadogInstall()}# the agent reads the program's journal entries
usermod -a -G systemd-journal dd-agent

${program.activate && `section activate\n${program.activate}\n`}# --- units ---
section units
rsyslogd -N1 >/dev/null
systemctl daemon-reload
systemctl restart rsyslog.service
systemctl enable logrotate.timer
systemctl restart logrotate.timer
systemctl enable datadog-agent.service
systemctl restart datadog-agent.service
section start
${program.start ?? `systemctl enable "$unit"\nsystemctl restart "$unit"\n`}log "boot ok: $unit started, ${program.vars.version !== undefined ? "release $version, " : ""}\${SECONDS}s after the script started"
`;
}

/**
 * Shell helpers shared by both host kinds: journal lines, steps, the one retry every download goes through,
 * apt, and the EXIT trap that names the failing step and keeps the program's unit down.
 */
function renderBootHelpers(me: string): string {
  return `
tag=${q(me)}
log() { echo "$tag: $*" >&2; logger -t "$tag" -- "$*" || true; }

section() { current_step=$1; step_started=$SECONDS; } # a stretch of the script a failure is reported against
section start
step() { # name function: runs it (set -e applies inside), then one journal line; a failure ends in on_exit
  section "$1"
  "$2"
  log "step=$1 ok duration=$((SECONDS - step_started))s"
}
on_exit() {
  local rc=$?
  if [ "$policy_rc_d" = ours ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$rc" -eq 0 ] && return
  log "step=$current_step failed duration=$((SECONDS - step_started))s exit=$rc"
  log "boot failed: $unit stays stopped and disabled"
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
}
policy_rc_d=theirs
trap on_exit EXIT
# Packages do not start their services during the boot (invoke-rc.d asks policy-rc.d): the boot starts each
# unit itself once it is configured, and a failed boot leaves it down.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  policy_rc_d=ours
fi

retry_attempts=${retryPolicy.attempts}
retry_budget=${retryPolicy.budgetSec}
retry() { # command...: at most retry_attempts tries, waits doubling from ${retryPolicy.firstWaitSec}s, all within retry_budget seconds
  local attempt=1 wait=${retryPolicy.firstWaitSec} deadline=$((SECONDS + retry_budget))
  until timeout "$((deadline - SECONDS))" "$@"; do
    if [ "$attempt" -ge "$retry_attempts" ] || [ $((SECONDS + wait)) -ge "$deadline" ]; then
      log "step=$current_step gave up after $attempt attempts: $1"
      return 1
    fi
    log "step=$current_step attempt $attempt failed, again in \${wait}s: $1"
    sleep "$wait"
    attempt=$((attempt + 1))
    wait=$((wait * 2))
  done
}
# https or a local file only, redirects included; the caller verifies what it fetched before using it.
fetch() { retry curl -fsSL --proto '=https,file' --proto-redir '=https' -o "$2" "$1"; }

# The hosts' egress is HTTPS only: apt reads Debian's mirrors over https (Debian's cloud images ship ca-certificates).
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources /etc/apt/mirrors/*.list; do
  if [ -f "$f" ]; then sed -i -E 's#http://((cdn-aws\\.)?deb\\.debian\\.org|security\\.debian\\.org)#https://\\1#g' "$f"; fi
done
apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then retry apt-get update -q; apt_updated=yes; fi
  # confold: a config file cloud-init wrote before its package arrives stays as rendered.
  retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
missing_debs() {
  local pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done
}
`;
}

/** The retry every download at boot goes through: bounded tries, doubling waits, a bounded total per download. */
export const retryPolicy = { attempts: 5, firstWaitSec: 2, budgetSec: 600 } as const;
