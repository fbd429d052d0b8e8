// Releases on the local fleet, all through each host's own copy of the deploy script (the file a real
// host gets in its user-data): the boot's first install, rolling deploys and rollbacks.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { serviceNode } from "../../test/support/runtime";
import { control } from "../../test/support/supervisor";
import { sha256File } from "../../contract/digest";
import { FleetError, FleetState, HostState, hostLayout, readPid, releaseId } from "./state";

export interface HostDeploy {
  host: string;
  ok: boolean;
  durationMs: number;
  output: string;
}

export interface RolloutResult {
  ok: boolean;
  durationMs: number;
  /** One entry per host reached: a rollout stops at the first host that fails. */
  hosts: HostDeploy[];
}

export interface DeployResult extends RolloutResult {
  version: string;
}

export interface RolloutOptions {
  /** Hosts at the same time (1: one at a time). */
  batch?: number;
  readyTimeoutSec?: number;
  onLog?: (line: string) => void;
}

export interface DeployOptions extends RolloutOptions {
  bundle: string;
  version?: string;
  /** Kill and start with no drain and no wait for HAProxy: the baseline a graceful deploy is compared to. */
  naive?: boolean;
}

interface RunOptions {
  /** Restart with `kill` (no drain) instead of `restart`. */
  naive?: boolean;
  /** Wait until HAProxy sends the host traffic again; a booting host is not behind HAProxy yet. */
  haproxy: boolean;
  readyTimeoutSec?: number;
  onLog?: (line: string) => void;
}

/** Runs the host's deploy script with the DEPLOY_* overrides of a simulated host. */
function runDeployScript(state: FleetState, h: HostState, args: string[], o: RunOptions): Promise<HostDeploy> {
  const t0 = performance.now();
  const ctl = `${process.execPath} ${path.join(state.dir, "bin", "supervisor.js")} ctl ${h.socket}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DEPLOY_ROOT: h.root,
    // The readiness probe runs on the host's runtime, the pinned Node, as on a real host.
    DEPLOY_NODE: serviceNode(),
    DEPLOY_RESTART_CMD: `${ctl} ${o.naive ? "kill" : "restart"}`,
    DEPLOY_STOP_CMD: `${ctl} stop`,
    DEPLOY_READY_URL: `http://${h.address}:${state.service.port}/readyz`,
    DEPLOY_READY_TIMEOUT_SEC: String(o.readyTimeoutSec ?? state.readyTimeoutSec),
  };
  if (o.haproxy && !o.naive)
    Object.assign(env, {
      DEPLOY_HAPROXY_SOCKET: state.haproxy.socket,
      DEPLOY_HAPROXY_SERVER: `${state.backend}/${h.name}`,
    });
  return new Promise((resolve) => {
    const p = spawn("bash", [hostLayout(h.root, state.service.name).deployScript, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (d: Buffer) => {
      output += d;
      for (const line of d.toString().split("\n")) if (line) o.onLog?.(`${h.name}: ${line}`);
    };
    p.stdout.on("data", take);
    p.stderr.on("data", take);
    p.on("close", (code) =>
      resolve({ host: h.name, ok: code === 0, durationMs: Math.round(performance.now() - t0), output }),
    );
  });
}

/** The arguments that install a bundle as a release. */
function installArgs(bundle: string, version: string, sha: string): string[] {
  return ["--source", `file://${path.resolve(bundle)}`, "--sha256", sha, "--version", version];
}

/** What the boot script does last on every host at once: release 1 through the deploy script. */
export async function installFirstRelease(
  state: FleetState,
  bundle: string,
  version: string,
  onLog?: (line: string) => void,
): Promise<DeployResult> {
  const args = installArgs(bundle, version, sha256File(bundle));
  const t0 = performance.now();
  const hosts = await Promise.all(state.hosts.map((h) => runDeployScript(state, h, args, { haproxy: false, onLog })));
  return { version, ok: hosts.every((r) => r.ok), durationMs: Math.round(performance.now() - t0), hosts };
}

/** Runs the deploy script host by host (or batch by batch), stopping at the first failure. */
async function rollout(
  state: FleetState,
  args: string[],
  o: RolloutOptions & { naive?: boolean },
): Promise<RolloutResult> {
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new FleetError(`--batch ${batch}: must be a positive integer`);
  const t0 = performance.now();
  const results: HostDeploy[] = [];
  for (let i = 0; i < state.hosts.length; i += batch) {
    const group = state.hosts.slice(i, i + batch);
    const done = await Promise.all(group.map((h) => runDeployScript(state, h, args, { ...o, haproxy: true })));
    results.push(...done);
    if (done.some((d) => !d.ok)) break;
  }
  return {
    ok: results.length === state.hosts.length && results.every((r) => r.ok),
    durationMs: Math.round(performance.now() - t0),
    hosts: results,
  };
}

/** A rolling deploy of a bundle as a new release. */
export async function deploy(state: FleetState, o: DeployOptions): Promise<DeployResult> {
  if (!fs.existsSync(o.bundle)) throw new FleetError(`${o.bundle} does not exist: run \`npm run build\` first`);
  const version = o.version ?? releaseId(o.bundle);
  return { version, ...(await rollout(state, installArgs(o.bundle, version, sha256File(o.bundle)), o)) };
}

/** A rolling rollback: every host swaps `current` and `previous`, restarts and waits until ready. */
export function rollback(state: FleetState, o: RolloutOptions = {}): Promise<RolloutResult> {
  return rollout(state, ["--rollback"], o);
}

/** Asks a host's supervisor: `crash` (SIGKILL, no restart, as a dead machine), `start`, `stop`, `status`, ... */
export function superviseHost(h: HostState, command: string): Promise<string> {
  return control(h.socket, command);
}

/** Where a host's `current` link points (`releases/<version>`). */
export function currentRelease(h: HostState, service: string): string {
  return fs.readlinkSync(hostLayout(h.root, service).current);
}

/** Where a host's `previous` link points, or undefined when it has none. */
export function previousRelease(h: HostState, service: string): string | undefined {
  try {
    return fs.readlinkSync(hostLayout(h.root, service).previous);
  } catch {
    return undefined;
  }
}

/** The release folder the host's running service was started from (its working directory), or undefined. */
export function runningRelease(h: HostState, service: string): string | undefined {
  const pid = readPid(h.pidFile);
  try {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    return path.relative(path.dirname(hostLayout(h.root, service).current), cwd);
  } catch {
    return undefined;
  }
}
