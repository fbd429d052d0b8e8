// The per-host deploy step: one bash script, the only way a release is installed, switched or rolled
// back. A host gets it as a file (hostPaths().deployScript, in the user-data); the boot script runs it
// for release 1, rollouts (SSM) and operators for every later one, and the local fleet runs the same
// text on its simulated hosts. Every host-specific value has a rendered default and an environment
// override, so the fleet runs it unchanged.
import { posix } from "node:path";
import { hostPaths } from "../../contract/layout";
import { withDefaults } from "../../contract/defaults";
import { Problem, formatProblem, nested } from "../../contract/problem";
import { ServiceSettings, checkServiceSettings, withServiceDefaults } from "../../contract/service";
import { statColumns } from "../haproxy/config";
import { renderRetry } from "../retry";

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
  /** Releases kept on disk, `current` and `previous` included. Override: DEPLOY_KEEP_RELEASES. */
  keepReleases: number;
  /** Region of the S3 bundle, passed to `aws s3 cp`; "" leaves it to the AWS CLI (AWS_DEFAULT_REGION). Override: DEPLOY_REGION. */
  region: string;
  /** The Node the readiness probe runs: the host's pinned runtime. Override: DEPLOY_NODE. */
  node: string;
}

export type DeployScriptOptions = Partial<Omit<DeployScriptInput, "service">> & { service?: Partial<ServiceSettings> };

export function withDeployDefaults(o: DeployScriptOptions = {}): DeployScriptInput {
  const { service: given, ...rest } = o;
  const service = withServiceDefaults(given);
  return withDefaults(
    {
      service,
      root: "/",
      restartCommand: `systemctl restart ${service.name}`,
      readyUrl: `http://127.0.0.1:${service.port}/readyz`,
      // The old process needs up to its shutdown deadline to stop, then the new one must start.
      readyTimeoutSec: Math.ceil(service.shutdownTimeoutMs / 1000) + 60,
      keepReleases: 5,
      region: "",
      node: "node",
    },
    rest,
  );
}

/** Problems with the input, each with its field (`service.port`, `root`, ...); empty when valid. */
export function checkDeployScript(i: DeployScriptInput): Problem[] {
  const problems = nested("service", checkServiceSettings(i.service));
  const problem = (field: keyof DeployScriptInput, message: string) => problems.push({ field, message });
  const safe = /^[A-Za-z0-9_./:@%+=, -]+$/;
  if (!i.root.startsWith("/") || !safe.test(i.root))
    problem("root", `"${i.root}" must be an absolute path of plain characters`);
  if (!safe.test(i.restartCommand))
    problem("restartCommand", `"${i.restartCommand}" may hold only letters, digits, spaces and _ . / : @ % + = , -`);
  if (!/^http:\/\/[A-Za-z0-9.-]+:\d+\/[A-Za-z0-9/_-]*$/.test(i.readyUrl))
    problem("readyUrl", `"${i.readyUrl}" must be http://host:port/path`);
  if (!Number.isInteger(i.readyTimeoutSec) || i.readyTimeoutSec < 1)
    problem("readyTimeoutSec", `${i.readyTimeoutSec} must be a positive integer`);
  if (!Number.isInteger(i.keepReleases) || i.keepReleases < 2)
    problem("keepReleases", `${i.keepReleases} must be an integer >= 2 (the current release and one to roll back to)`);
  if (!regionPattern.test(i.region)) problem("region", `"${i.region}" is not an AWS region name`);
  if (!/^[A-Za-z0-9_./-]+$/.test(i.node))
    problem("node", `"${i.node}" must be a command name or path of plain characters`);
  return problems;
}

/** An AWS region name (as host/input.ts checks it), or "" for the AWS CLI's own default. */
const regionPattern = /^([a-z]{2}(-[a-z]+)+-\d)?$/;

export function renderDeployScript(options: DeployScriptOptions = {}): string {
  const i = withDeployDefaults(options);
  const problems = checkDeployScript(i);
  if (problems.length > 0)
    throw new Error(`invalid deploy script settings:\n  - ${problems.map(formatProblem).join("\n  - ")}`);
  const name = i.service.name;
  const p = hostPaths(name);
  // `current` and `previous` sit side by side and link relatively into `releases/`.
  const home = posix.dirname(p.current);
  if (posix.dirname(p.previous) !== home)
    throw new Error("contract/layout.ts: `current` and `previous` must share a folder");
  const linkTo = posix.relative(home, p.releases);
  return `#!/usr/bin/env bash
# ${p.deployScript}: the one way a release of ${name} is installed, switched or rolled back on this
# host. The boot script runs it for release 1, rollouts for every later one. Rendered by
# host/deploy/script.ts from the layout of contract/layout.ts: releases live in ${p.releases}/<version>
# (never changed once installed); ${p.current} and ${p.previous} are relative links
# (${linkTo}/<version>) to the running release and to the one it replaced.
#
# usage: deploy --source <s3://bucket/key | file:///path | /path> --sha256 <hex> --version <id>
#          fetch, verify, install, point previous at the running release and current at this one,
#          restart, wait until ready (and until HAProxy sends traffic again when its admin socket is
#          given). Not ready in time: switch back; with nothing to switch back to, stop the service.
#        deploy --rollback
#          swap current and previous, restart, wait until ready; not ready in time: swap back.
# exit: 0 done, 1 failed (and switched back, or stopped), 2 bad usage
set -euo pipefail
umask 022

root="\${DEPLOY_ROOT:-${i.root}}"
region="\${DEPLOY_REGION:-${i.region}}"
restart_cmd="\${DEPLOY_RESTART_CMD:-${i.restartCommand}}"
stop_cmd="\${DEPLOY_STOP_CMD:-systemctl stop ${name}}"
ready_url="\${DEPLOY_READY_URL:-${i.readyUrl}}"
ready_timeout="\${DEPLOY_READY_TIMEOUT_SEC:-${i.readyTimeoutSec}}"
node_bin="\${DEPLOY_NODE:-${i.node}}"
keep="\${DEPLOY_KEEP_RELEASES:-${i.keepReleases}}"
# HAProxy admin socket and the server as <backend>/<server>: optional, both or neither.
haproxy_socket="\${DEPLOY_HAPROXY_SOCKET:-}"
haproxy_server="\${DEPLOY_HAPROXY_SERVER:-}"

log() { echo "deploy[${name}]: $*" >&2; }
${renderRetry("download ")}usage() { log "$*"; log "usage: $0 --source <s3://...|file://...|path> --sha256 <hex> --version <id> | --rollback"; exit 2; }

mode=deploy source_url="" sha="" version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_url="\${2:-}"; shift 2 || usage "--source needs a value" ;;
    --sha256) sha="\${2:-}"; shift 2 || usage "--sha256 needs a value" ;;
    --version) version="\${2:-}"; shift 2 || usage "--version needs a value" ;;
    --rollback) mode=rollback; shift ;;
    *) usage "unknown argument: $1" ;;
  esac
done
if [ "$mode" = rollback ]; then
  [ -z "$source_url$sha$version" ] || usage "--rollback takes no other argument"
else
  [ -n "$source_url" ] || usage "--source is required"
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || usage "--sha256 must be 64 lowercase hex digits"
  [[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || usage "--version must be 1-64 letters, digits, dots, dashes or underscores"
fi
[[ "$root" == /* ]] || usage "DEPLOY_ROOT must be an absolute path"
[[ "$region" =~ ^([a-z]{2}(-[a-z]+)+-[0-9])?$ ]] || usage "DEPLOY_REGION must be an AWS region name"
[[ "$ready_timeout" =~ ^[1-9][0-9]*$ ]] || usage "DEPLOY_READY_TIMEOUT_SEC must be a positive integer"
[[ "$keep" =~ ^([2-9]|[1-9][0-9]+)$ ]] || usage "DEPLOY_KEEP_RELEASES must be an integer >= 2"
if [ -n "$haproxy_socket" ] && [[ ! "$haproxy_server" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
  usage "DEPLOY_HAPROXY_SERVER must be <backend>/<server> when DEPLOY_HAPROXY_SOCKET is set"
fi

# The host layout, under the root.
root="\${root%/}"
releases="$root${p.releases}"
current="$root${p.current}"
previous="$root${p.previous}"
mkdir -p "$releases"
# One deploy at a time per host.
exec 9>"$root${home}/.deploy.lock"
flock -n 9 || { log "another deploy is running on this host"; exit 1; }
incoming=""
trap 'rm -rf "$incoming" "$current.new" "$previous.new"' EXIT

# installed <link>: the version the link points at when that release is installed; nothing otherwise.
# Only the last path element counts, so an absolute link (written by older boot scripts) reads the same.
installed() {
  local target
  target="$(readlink -- "$1")" || return 0
  target="\${target%/}"
  target="\${target##*/}"
  if [ -n "$target" ] && [ -s "$releases/$target/server.js" ]; then echo "$target"; fi
}
# point <link> [version]: relative, so the layout stays valid under any root; made under a temporary
# name and renamed over the old link, so the switch is atomic. No version: the link goes.
point() {
  if [ -z "\${2:-}" ]; then rm -f -- "$1"; return; fi
  ln -sfn "${linkTo}/$2" "$1.new"
  mv -T "$1.new" "$1"
}
# switch_to <current> [previous]: previous first, so both links name an installed release at every moment.
switch_to() {
  point "$previous" "\${2:-}"
  point "$current" "$1"
}

# Ready within the deadline: /readyz answers 200, then HAProxy (when its socket is given) reports the
# server UP. One process of the host's Node polls both (curl and socat may not be on the host).
wait_ready() {
  "$node_bin" -e '
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

running="$(installed "$current")"
before="$(installed "$previous")"
started=$SECONDS

if [ "$mode" = rollback ]; then
  if [ -z "$running" ] || [ -z "$before" ] || [ "$before" = "$running" ]; then
    log "nothing to roll back: current is \${running:-not an installed release}, previous is \${before:-not an installed release}"
    exit 1
  fi
  log "rolling back releases/$running -> releases/$before"
  switch_to "$before" "$running"
  if restart && wait_ready; then
    log "rolled back to releases/$before after $((SECONDS - started))s; previous is releases/$running"
    exit 0
  fi
  log "releases/$before failed; switching back to releases/$running"
  switch_to "$running" "$before"
  if restart && wait_ready; then log "back on releases/$running"; else log "releases/$running is not ready either"; fi
  exit 1
fi

incoming="$(mktemp -d "$releases/.incoming.XXXXXX")"
# Through the boot's retry (host/retry.ts): a download that still fails changes nothing on the host.
case "$source_url" in
  s3://*)
    region_opt=()
    [ -z "$region" ] || region_opt=(--region "$region")
    fetch=(aws s3 cp "\${region_opt[@]}" --only-show-errors "$source_url" "$incoming/server.js") ;;
  file://*) fetch=(cp -- "\${source_url#file://}" "$incoming/server.js") ;;
  /*) fetch=(cp -- "$source_url" "$incoming/server.js") ;;
  *) usage "--source must be s3://..., file://... or an absolute path" ;;
esac
if ! retry "\${fetch[@]}"; then
  log "could not fetch $source_url; nothing changed"
  exit 1
fi
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

# The running release becomes previous; deploying the running release again only restarts it.
next_previous="$running"
[ "$version" != "$running" ] || next_previous="$before"
log "switching \${running:+releases/}\${running:-nothing} -> releases/$version"
switch_to "$version" "$next_previous"
if restart && wait_ready; then
  log "releases/$version is live after $((SECONDS - started))s"
elif [ -z "$running" ]; then
  # A first install that fails leaves no release behind that could answer: stopped, no links.
  log "releases/$version failed and no release ran before it: stopping ${name}"
  log "stopping: $stop_cmd"
  bash -c "$stop_cmd" || log "stop failed"
  switch_to ""
  exit 1
elif [ "$running" = "$version" ]; then
  log "releases/$version failed and it was already current: nothing to roll back to"
  exit 1
else
  log "releases/$version failed; rolling back to releases/$running"
  switch_to "$running" "$before"
  if restart && wait_ready; then log "rolled back to releases/$running"; else log "rollback to releases/$running is not ready either"; fi
  exit 1
fi

# Prune, newest first by install time: current and previous always stay, \`keep\` releases in all.
find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %f\\n' | sort -rn | cut -d' ' -f2 |
  awk -v cur="$version" -v prev="$next_previous" -v keep="$keep" '$0 != cur && $0 != prev && ++others > keep - 1 - (prev != "")' |
  while read -r old; do
    log "pruning releases/$old"
    rm -rf -- "\${releases:?}/$old"
  done
`;
}
