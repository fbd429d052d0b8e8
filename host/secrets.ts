// The secrets step of a host: one bash script, the only way a secret value reaches a host. It reads the SSM
// SecureString parameters (host input `ssm`: names, never values), checks each value, and writes each into
// exactly one root-only 0600 file under hostPaths().secrets, under a temporary name then renamed, so a reader
// sees the old file or the new one. The boot script runs it before the Datadog agent arrives (the agent's
// unit reads its key file from its first start); a rotation runs it again with --restart, which restarts
// the consumer of each file whose value changed (rsyslog for Papertrail, the Datadog agent for its key) and
// nothing when no value changed. Every value is checked before any file is written: a bad value in SSM
// changes nothing on the host.
import { hostPaths } from "../contract/layout";
import { formatProblem } from "../contract/problem";
import { HostBase, checkHostBase } from "./input";
import { renderRetry } from "./retry";
import { renderPapertrailAction } from "./rsyslog";

/** Single-quoted shell word. Inputs are validated by checkHostBase; this keeps them inert anyway. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The units that read each secret file, restarted by `--restart` when its value changed. */
export const secretConsumers = { datadog: "datadog-agent.service", papertrail: "rsyslog.service" } as const;

export function renderSecretsScript(i: HostBase): string {
  const problems = checkHostBase(i);
  if (problems.length) throw new Error(`invalid secrets script input:\n  ${problems.map(formatProblem).join("\n  ")}`);
  const p = hostPaths(i.service.name);
  const me = p.secretsScript.slice(p.secretsScript.lastIndexOf("/") + 1);
  const file = (f: string) => f.slice(f.lastIndexOf("/") + 1);
  if (
    p.datadogEnvFile !== `${p.secrets}/${file(p.datadogEnvFile)}` ||
    p.papertrailInclude !== `${p.secrets}/${file(p.papertrailInclude)}`
  )
    throw new Error("contract/layout.ts: the secret files must sit in the secrets folder");
  return `#!/bin/bash
# ${p.secretsScript}: rendered by host/secrets.ts. Reads SSM ${i.ssm.datadogApiKey} and ${i.ssm.papertrailDestination}
# into root-only 0600 files of ${p.secrets}, one value per file, each written under a temporary name then renamed.
# The boot script runs it before the Datadog agent is installed; a rotation runs it with --restart.
#
# usage: ${me} [--restart]
#          --restart: restart the unit reading each file whose value changed; no change, no restart.
# env:   SECRETS_DIR (default ${p.secrets}), SECRETS_LOG_TAG (default ${me}; the boot passes its own).
# exit:  0 done, 1 failed (every value is checked before any file is written), 2 bad usage
set -euo pipefail
umask 077

region=${q(i.region)}
ssm_datadog_api_key=${q(i.ssm.datadogApiKey)}
ssm_papertrail_destination=${q(i.ssm.papertrailDestination)}
secrets_dir="\${SECRETS_DIR:-${p.secrets}}"
tag="\${SECRETS_LOG_TAG:-${me}}"
log() { echo "$tag: $*" >&2; logger -t "$tag" -- "$*" || true; }

restart=no
while [ $# -gt 0 ]; do
  case "$1" in
    --restart) restart=yes; shift ;;
    *) log "unknown argument: $1 (usage: $0 [--restart])"; exit 2 ;;
  esac
done
[[ "$secrets_dir" == /* ]] || { log "SECRETS_DIR must be an absolute path"; exit 2; }

${renderRetry("step=secrets ")}
ssm_get() {
  retry aws ssm get-parameter --region "$region" --with-decryption --name "$1" --query Parameter.Value --output text
}

# Read and check every value first: a value refused here leaves every file as it was.
dd_api_key=$(ssm_get "$ssm_datadog_api_key")
[[ "$dd_api_key" =~ ^[A-Za-z0-9]{16,64}$ ]] || { log "SSM $ssm_datadog_api_key: not a Datadog API key"; exit 1; }
papertrail=$(ssm_get "$ssm_papertrail_destination")
if ! [[ "$papertrail" =~ ^([A-Za-z0-9][A-Za-z0-9.-]*):([0-9]{1,5})$ ]]; then
  log "SSM $ssm_papertrail_destination: expected host:port"; exit 1
fi
pt_host=\${BASH_REMATCH[1]}
pt_port=\${BASH_REMATCH[2]}
unset papertrail

install -d -m 0700 "$secrets_dir"
changed=()
unchanged=()
tmp=""
trap 'rm -f "$tmp"' EXIT # a run cut short leaves no second copy of a value behind
write_secret() { # file content: created 0600 under a temporary name, then renamed into place when it differs
  tmp=$(mktemp "$secrets_dir/.$1.XXXXXX")
  printf '%s\\n' "$2" > "$tmp"
  if cmp -s "$tmp" "$secrets_dir/$1"; then
    rm -f "$tmp"
    unchanged+=("$1")
  else
    mv -f "$tmp" "$secrets_dir/$1"
    changed+=("$1")
  fi
  tmp=""
}
write_secret ${file(p.datadogEnvFile)} "DD_API_KEY=$dd_api_key"
unset dd_api_key
write_secret ${file(p.papertrailInclude)} "$(cat <<RSYSLOG
# Papertrail forwarding, written by ${p.secretsScript} from SSM $ssm_papertrail_destination
${renderPapertrailAction(i, { host: "${pt_host}", port: "${pt_port}" }).trimEnd()}
RSYSLOG
)"
unset pt_host pt_port
log "secrets: changed=\${changed[*]:-none} unchanged=\${unchanged[*]:-none}"

if [ "$restart" = yes ]; then
  for f in \${changed[@]+"\${changed[@]}"}; do
    case "$f" in
      ${file(p.datadogEnvFile)}) unit=${secretConsumers.datadog} ;;
      ${file(p.papertrailInclude)}) rsyslogd -N1 >/dev/null; unit=${secretConsumers.papertrail} ;;
    esac
    log "restarting $unit: $f changed"
    systemctl restart "$unit"
  done
fi
log "step=secrets ok duration=\${SECONDS}s"
`;
}
