// The per-host deploy step: one bash script, the same text on an AWS host (run by SSM) and on a
// simulated host of the local fleet (run by local/). Every host-specific value has a rendered
// default and an environment override, so the fleet runs it unchanged.
import { withDefaults } from "../../contract/defaults";
import { Problem, formatProblem, nested } from "../../contract/problem";
import { ServiceSettings, checkServiceSettings, withServiceDefaults } from "../../contract/service";
import { statColumns } from "../haproxy/config";

export interface DeployScriptInput {
  service: ServiceSettings;
  /** Host layout root; `/` on a real host. Override: DEPLOY_ROOT. */
  root: string;
  /** Restarts the service and returns once it started. Override: DEPLOY_RESTART_CMD. */
  restartCommand: string;
  /** Override: DEPLOY_READY_URL. */
  readyUrl: string;
  /** Bound on the wait for /readyz (and for HAProxy to send traffic again). Override: DEPLOY_READY_TIMEOUT_SEC. */
  readyTimeoutSec: number;
  /** Releases kept on disk, the current one included. Override: DEPLOY_KEEP_RELEASES. */
  keepReleases: number;
}

export type DeployScriptOptions = Partial<Omit<DeployScriptInput, "service">> & { service?: Partial<ServiceSettings> };

export function withDeployDefaults(o: DeployScriptOptions = {}): DeployScriptInput {
  const { service: given, ...rest } = o;
  const service = withServiceDefaults(given);
  return withDefaults({
    service,
    root: "/",
    restartCommand: `systemctl restart ${service.name}`,
    readyUrl: `http://127.0.0.1:${service.port}/readyz`,
    // The old process needs up to its shutdown deadline to stop, then the new one must start.
    readyTimeoutSec: Math.ceil(service.shutdownTimeoutMs / 1000) + 60,
    keepReleases: 5,
  }, rest);
}

/** Problems with the input, each with its field (`service.port`, `root`, ...); empty when valid. */
export function checkDeployScript(i: DeployScriptInput): Problem[] {
  const problems = nested("service", checkServiceSettings(i.service));
  const problem = (field: keyof DeployScriptInput, message: string) => problems.push({ field, message });
  const safe = /^[A-Za-z0-9_./:@%+=, -]+$/;
  if (!i.root.startsWith("/") || !safe.test(i.root)) problem("root", `"${i.root}" must be an absolute path of plain characters`);
  if (!safe.test(i.restartCommand)) problem("restartCommand", `"${i.restartCommand}" may hold only letters, digits, spaces and _ . / : @ % + = , -`);
  if (!/^http:\/\/[A-Za-z0-9.-]+:\d+\/[A-Za-z0-9/_-]*$/.test(i.readyUrl)) problem("readyUrl", `"${i.readyUrl}" must be http://host:port/path`);
  if (!Number.isInteger(i.readyTimeoutSec) || i.readyTimeoutSec < 1) problem("readyTimeoutSec", `${i.readyTimeoutSec} must be a positive integer`);
  if (!Number.isInteger(i.keepReleases) || i.keepReleases < 2)
    problem("keepReleases", `${i.keepReleases} must be an integer >= 2 (the current release and one to roll back to)`);
  return problems;
}

export function renderDeployScript(options: DeployScriptOptions = {}): string {
  const i = withDeployDefaults(options);
  const problems = checkDeployScript(i);
  if (problems.length > 0) throw new Error(`invalid deploy script settings:\n  - ${problems.map(formatProblem).join("\n  - ")}`);
  const name = i.service.name;
  return `#!/usr/bin/env bash
# Deploy one release of ${name} on this host: fetch, verify, install next to the current release,
# switch, restart, wait until ready (and until HAProxy sends traffic again when its admin socket is
# given), roll back when it does not get there in time. Rendered by host/deploy/script.ts.
#
# usage: deploy.sh --source <s3://bucket/key | file:///path | /path> --sha256 <hex> --version <id>
# exit: 0 deployed, 1 failed and rolled back (or nothing to roll back to), 2 bad usage
set -euo pipefail
umask 022

root="\${DEPLOY_ROOT:-${i.root}}"
restart_cmd="\${DEPLOY_RESTART_CMD:-${i.restartCommand}}"
ready_url="\${DEPLOY_READY_URL:-${i.readyUrl}}"
ready_timeout="\${DEPLOY_READY_TIMEOUT_SEC:-${i.readyTimeoutSec}}"
keep="\${DEPLOY_KEEP_RELEASES:-${i.keepReleases}}"
# HAProxy admin socket and the server as <backend>/<server>: optional, both or neither.
haproxy_socket="\${DEPLOY_HAPROXY_SOCKET:-}"
haproxy_server="\${DEPLOY_HAPROXY_SERVER:-}"

log() { echo "deploy[${name}]: $*" >&2; }
usage() { log "$*"; log "usage: $0 --source <s3://...|file://...|path> --sha256 <hex> --version <id>"; exit 2; }

source_url="" sha="" version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_url="\${2:-}"; shift 2 || usage "--source needs a value" ;;
    --sha256) sha="\${2:-}"; shift 2 || usage "--sha256 needs a value" ;;
    --version) version="\${2:-}"; shift 2 || usage "--version needs a value" ;;
    *) usage "unknown argument: $1" ;;
  esac
done
[ -n "$source_url" ] || usage "--source is required"
[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || usage "--sha256 must be 64 lowercase hex digits"
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || usage "--version must be 1-64 letters, digits, dots, dashes or underscores"
[[ "$root" == /* ]] || usage "DEPLOY_ROOT must be an absolute path"
[[ "$ready_timeout" =~ ^[1-9][0-9]*$ ]] || usage "DEPLOY_READY_TIMEOUT_SEC must be a positive integer"
[[ "$keep" =~ ^([2-9]|[1-9][0-9]+)$ ]] || usage "DEPLOY_KEEP_RELEASES must be an integer >= 2"
if [ -n "$haproxy_socket" ] && [[ ! "$haproxy_server" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
  usage "DEPLOY_HAPROXY_SERVER must be <backend>/<server> when DEPLOY_HAPROXY_SOCKET is set"
fi

base="\${root%/}/opt/${name}"
releases="$base/releases"
mkdir -p "$releases"
# One deploy at a time per host.
exec 9>"$base/.deploy.lock"
flock -n 9 || { log "another deploy is running on this host"; exit 1; }

incoming="$(mktemp -d "$releases/.incoming.XXXXXX")"
trap 'rm -rf "$incoming" "$base/.current.new"' EXIT

case "$source_url" in
  s3://*) aws s3 cp --only-show-errors "$source_url" "$incoming/server.js" ;;
  file://*) cp -- "\${source_url#file://}" "$incoming/server.js" ;;
  /*) cp -- "$source_url" "$incoming/server.js" ;;
  *) usage "--source must be s3://..., file://... or an absolute path" ;;
esac
actual="$(sha256sum "$incoming/server.js" | cut -d' ' -f1)"
if [ "$actual" != "$sha" ]; then
  log "checksum mismatch for $source_url: expected $sha, got $actual; nothing changed"
  exit 1
fi

target="$releases/$version"
if [ -e "$target" ]; then
  # Release folders are immutable: the same version must be the same bytes.
  existing="$(sha256sum "$target/server.js" | cut -d' ' -f1)"
  [ "$existing" = "$sha" ] || { log "release $version already exists with other content; pick a new version"; exit 1; }
  touch "$target"
else
  chmod 0644 "$incoming/server.js"
  chmod 0755 "$incoming"
  mv -T "$incoming" "$target"
fi

previous="$(readlink "$base/current" 2>/dev/null || true)"
switch_to() {
  # A relative link keeps the layout valid under any root; mv -T makes the switch atomic.
  ln -sfn "releases/$1" "$base/.current.new"
  mv -T "$base/.current.new" "$base/current"
}

# Ready within the deadline: /readyz answers 200, then HAProxy (when its socket is given) reports the
# server UP. One node process polls both (node is on every host; curl and socat may not be).
wait_ready() {
  node -e '
    const [url, sock, server, timeoutSec] = process.argv.slice(1);
    const http = require("http"), net = require("net");
    const deadline = Date.now() + Number(timeoutSec) * 1000;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const ready = () => new Promise((resolve) => {
      const req = http.get(url, { timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(false));
    });
    const [backend, name] = server.split("/");
    const lbStatus = () => new Promise((resolve) => {
      let out = "";
      const s = net.connect(sock, () => s.write("show stat\\n"));
      s.setTimeout(2000, () => s.destroy());
      s.on("data", (d) => (out += d));
      s.on("error", () => resolve("no answer from " + sock));
      s.on("close", () => {
        const row = out.split("\\n").map((l) => l.split(",")).find((f) => f[${statColumns.pxname}] === backend && f[${statColumns.svname}] === name);
        resolve(row ? row[${statColumns.status}] : "not in HAProxy");
      });
    });
    (async () => {
      while (!(await ready())) {
        if (Date.now() > deadline) { console.error(url + " not ready after " + timeoutSec + "s"); process.exit(1); }
        await sleep(100);
      }
      if (!sock) return;
      let status;
      while ((status = await lbStatus()) !== "UP") {
        if (Date.now() > deadline) { console.error("HAProxy reports " + server + " as " + status + " after " + timeoutSec + "s"); process.exit(1); }
        await sleep(100);
      }
    })();' "$ready_url" "$haproxy_socket" "$haproxy_server" "$ready_timeout"
}

restart() {
  log "restarting: $restart_cmd"
  bash -c "$restart_cmd"
}

started=$SECONDS
log "switching \${previous:-nothing} -> releases/$version"
switch_to "$version"
if restart && wait_ready; then
  log "releases/$version is live after $((SECONDS - started))s"
else
  if [ -z "$previous" ] || [ "$previous" = "releases/$version" ]; then
    log "releases/$version failed and there is no previous release to roll back to"
    exit 1
  fi
  log "releases/$version failed; rolling back to $previous"
  switch_to "\${previous#releases/}"
  if restart && wait_ready; then log "rolled back to $previous"; else log "rollback to $previous is not ready either"; fi
  exit 1
fi

# Prune: newest first by install time, never the current release or the one it replaced.
keep_list="releases/$version \${previous}"
find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %f\\n' | sort -rn | cut -d' ' -f2 | tail -n +"$((keep + 1))" |
  while read -r old; do
    case " $keep_list " in *" releases/$old "*) continue ;; esac
    log "pruning releases/$old"
    rm -rf -- "\${releases:?}/$old"
  done
`;
}
