// The local fleet: N simulated hosts (the bundled service in cluster mode on 127.0.1.<i>, each with
// its own root dir in the host layout and a supervisor standing in for systemd) behind the real
// HAProxy with the rendered config. Used by local/cli.ts, local/demo.ts, the tests and bench/.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { renderDeployScript } from "../host/deploy/script";
import { HealthCheckTiming, renderHaproxyConfig } from "../host/haproxy/config";
import { serviceEnv } from "../contract/env";
import { ServiceSettings, stopTimeoutSec, withServiceDefaults } from "../contract/service";
import { freePort } from "../test/support/net";
import { buildSupervisor, isOurs } from "../test/support/processes";
import { SupervisorConfig, control } from "../test/support/supervisor";
import { tool } from "../test/support/tools";
import { setTimeout as sleep } from "node:timers/promises";

/** A mistake the user can fix: printed as one line, never with a stack trace. */
export class FleetError extends Error {
  override name = "FleetError";
}

export interface FleetOptions {
  /** Where the fleet keeps everything: host roots, HAProxy files, state.json. */
  dir: string;
  instances: number;
  workers: number;
  /** The built service (dist/app/server.js). */
  bundle: string;
  service: Partial<ServiceSettings>;
  check: Partial<HealthCheckTiming>;
  logLevel: string;
  /** Supervisor's RestartSec after a crash. */
  restartSec: number;
  readyTimeoutSec: number;
}

export interface HostState {
  name: string;
  address: string;
  root: string;
  socket: string;
  supervisorConfig: string;
  supervisorPid: number;
  pidFile: string;
  logFile: string;
}

export interface FleetState {
  dir: string;
  service: ServiceSettings;
  url: string;
  statsUrl: string;
  backend: string;
  readyTimeoutSec: number;
  haproxy: { pid: number; config: string; socket: string; stateFile: string; logFile: string; port: number; statsPort: number; bin: string };
  hosts: HostState[];
}

// Short timings keep a local rolling deploy quick; the check timeout stays generous because this
// machine's cores are shared and a starved check must not take a healthy server out.
// Detection: fall*(inter+timeout) = 2*(200+500) = 1400 ms < 2000 ms drain delay.
export const localServiceDefaults: Partial<ServiceSettings> = { drainDelayMs: 2000, shutdownTimeoutMs: 10_000 };
export const localCheckDefaults: Partial<HealthCheckTiming> = { intervalMs: 200, timeoutMs: 500, fall: 2, rise: 2 };

export function withFleetDefaults(o: Partial<FleetOptions> & { dir: string; bundle: string }): FleetOptions {
  return {
    instances: 3,
    workers: 2,
    logLevel: "info",
    restartSec: 1,
    readyTimeoutSec: 30,
    ...o,
    service: { ...localServiceDefaults, ...o.service },
    check: { ...localCheckDefaults, ...o.check },
  };
}


/** The haproxy binary, or a FleetError with the command that installs it. */
export function findHaproxy(): string {
  try {
    return tool("haproxy");
  } catch (e) {
    throw new FleetError(`${(e as Error).message} (as root) and try again`);
  }
}

export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export function releaseId(bundle: string): string {
  return `r${Date.now()}-${sha256File(bundle).slice(0, 8)}`;
}

function statePath(dir: string): string {
  return path.join(dir, "state.json");
}

export function readState(dir: string): FleetState | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(dir), "utf8")) as FleetState;
  } catch {
    return undefined;
  }
}

/** Sends one command to HAProxy's admin socket and returns its answer. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const s = net.connect(socket, () => s.write(`${command}\n`));
    s.setEncoding("utf8");
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`HAProxy admin socket ${socket} did not answer`)));
    s.on("data", (d) => (out += d));
    s.on("error", reject);
    s.on("close", () => resolve(out));
  });
}

export interface ServerStatus {
  name: string;
  address: string;
  /** HAProxy's view: UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), MAINT, DRAIN. */
  status: string;
  lastCheck: string;
  current: number;
  total: number;
}

export async function serverStatuses(state: FleetState): Promise<ServerStatus[]> {
  const csv = await haproxyCommand(state.haproxy.socket, "show stat");
  const lines = csv.split("\n").filter((l) => l && !l.startsWith("#"));
  return lines
    .map((l) => l.split(","))
    .filter((f) => f[0] === state.backend && f[1] !== "BACKEND" && f[1] !== "FRONTEND")
    .map((f) => ({ name: f[1]!, status: f[17]!, lastCheck: f[36] ?? "", current: Number(f[4]), total: Number(f[7]), address: f[73] ?? "" }));
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new FleetError(`${what} within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100);
  }
}

export async function waitAllUp(state: FleetState, timeoutMs = 60_000): Promise<void> {
  await waitFor("HAProxy did not report every server UP", timeoutMs, async () => {
    const st = await serverStatuses(state);
    return st.length === state.hosts.length && st.every((s) => s.status === "UP");
  });
}

/** Installs a bundle as a release of one host and points `current` at it (first install only). */
function installRelease(root: string, service: string, bundle: string, version: string): void {
  const base = path.join(root, "opt", service);
  const dir = path.join(base, "releases", version);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(bundle, path.join(dir, "server.js"));
  fs.rmSync(path.join(base, "current"), { force: true });
  fs.symlinkSync(path.join("releases", version), path.join(base, "current"));
}

function buildTools(dir: string, service: ServiceSettings): void {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  buildSupervisor(path.join(bin, "supervisor.js"));
  // The same text an AWS host runs; the fleet only sets the DEPLOY_* overrides.
  fs.writeFileSync(path.join(bin, "deploy.sh"), renderDeployScript({ service }), { mode: 0o755 });
}

export async function up(options: Partial<FleetOptions> & { dir: string; bundle: string }): Promise<FleetState> {
  const o = withFleetDefaults(options);
  if (!Number.isInteger(o.instances) || o.instances < 1 || o.instances > 20) throw new FleetError(`--instances ${o.instances}: must be 1-20`);
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 16) throw new FleetError(`--workers ${o.workers}: must be 1-16`);
  if (!fs.existsSync(o.bundle)) throw new FleetError(`${o.bundle} does not exist: run \`npm run build\` first`);
  const haproxyBin = findHaproxy();
  const existing = readState(o.dir);
  if (existing && alive(existing).length > 0) throw new FleetError(`a local fleet is already running from ${o.dir}: run \`npm run local -- down\` first`);

  const addresses = Array.from({ length: o.instances }, (_, n) => `127.0.1.${n + 1}`);
  const port = await freePort(addresses);
  const service = withServiceDefaults({ ...o.service, port, workers: o.workers });
  const [lbPort, statsPort] = [await freePort(["127.0.0.1"]), await freePort(["127.0.0.1"])];
  fs.rmSync(o.dir, { recursive: true, force: true });
  fs.mkdirSync(o.dir, { recursive: true });
  buildTools(o.dir, service);

  const version = releaseId(o.bundle);
  const hosts: HostState[] = addresses.map((address, n) => {
    const name = `h${n + 1}`;
    const root = path.join(o.dir, "hosts", name);
    installRelease(root, service.name, o.bundle, version);
    const etc = path.join(root, "etc", service.name);
    const run = path.join(root, "run");
    const logs = path.join(root, "var", "log", service.name);
    for (const d of [etc, run, logs]) fs.mkdirSync(d, { recursive: true });
    const env = { ...serviceEnv(service), HOST: address, LOG_LEVEL: o.logLevel, DD_AGENT_HOST: "127.0.0.1", DD_SERVICE: service.name, DD_ENV: "local" };
    fs.writeFileSync(path.join(etc, `${service.name}.env`), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(""));
    const cfg: SupervisorConfig = {
      root,
      service: service.name,
      envFile: path.join(etc, `${service.name}.env`),
      logFile: path.join(logs, `${service.name}.log`),
      socket: path.join(run, "supervisor.sock"),
      pidFile: path.join(run, `${service.name}.pid`),
      stopTimeoutSec: stopTimeoutSec(service),
      restartSec: o.restartSec,
    };
    const supervisorConfig = path.join(run, "supervisor.json");
    fs.writeFileSync(supervisorConfig, JSON.stringify(cfg, null, 2));
    return { name, address, root, socket: cfg.socket, supervisorConfig, supervisorPid: 0, pidFile: cfg.pidFile, logFile: cfg.logFile };
  });

  const hp = path.join(o.dir, "haproxy");
  fs.mkdirSync(hp, { recursive: true });
  const state: FleetState = {
    dir: o.dir,
    service,
    url: `http://127.0.0.1:${lbPort}`,
    statsUrl: `http://127.0.0.1:${statsPort}/stats`,
    backend: "app",
    readyTimeoutSec: o.readyTimeoutSec,
    haproxy: {
      pid: 0,
      config: path.join(hp, "haproxy.cfg"),
      socket: path.join(hp, "admin.sock"),
      stateFile: path.join(hp, "server-state"),
      logFile: path.join(hp, "haproxy.log"),
      port: lbPort,
      statsPort,
      bin: haproxyBin,
    },
    hosts,
  };
  fs.writeFileSync(state.haproxy.config, renderFleetHaproxy(state, o.check));

  try {
    for (const h of hosts) {
      const p = spawn(process.execPath, [path.join(o.dir, "bin", "supervisor.js"), "run", h.supervisorConfig], { detached: true, stdio: "ignore" });
      p.unref();
      h.supervisorPid = p.pid!;
      saveState(state);
    }
    const log = fs.openSync(state.haproxy.logFile, "a");
    const p = spawn(haproxyBin, ["-f", state.haproxy.config], { detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    p.unref();
    state.haproxy.pid = p.pid!;
    saveState(state);
    await waitAllUp(state, o.readyTimeoutSec * 1000);
  } catch (e) {
    const tail = fs.existsSync(state.haproxy.logFile) ? fs.readFileSync(state.haproxy.logFile, "utf8").split("\n").slice(-5).join("\n") : "";
    await down(o.dir);
    throw new FleetError(`the fleet did not come up: ${(e as Error).message}${tail ? `\nhaproxy log:\n${tail}` : ""}`);
  }
  return state;
}

export function renderFleetHaproxy(state: FleetState, check: Partial<HealthCheckTiming>, extra: { maxconn?: number } = {}): string {
  return renderHaproxyConfig({
    service: state.service,
    servers: state.hosts.map((h) => ({ name: h.name, address: h.address, port: state.service.port })),
    frontend: { address: "127.0.0.1", port: state.haproxy.port },
    stats: { address: "127.0.0.1", port: state.haproxy.statsPort },
    adminSocket: state.haproxy.socket,
    serverStateFile: state.haproxy.stateFile,
    backendName: state.backend,
    log: "stdout",
    check,
    ...extra,
  });
}

function saveState(state: FleetState): void {
  fs.writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2));
}

/** The recorded PIDs still running, with the marker that proves each is ours. */
function alive(state: FleetState): { pid: number; marker: string; what: string }[] {
  const procs = [
    ...state.hosts.map((h) => ({ pid: h.supervisorPid, marker: h.supervisorConfig, what: `supervisor ${h.name}` })),
    ...state.hosts.map((h) => ({ pid: readPid(h.pidFile), marker: path.join(h.root, "opt"), what: `service ${h.name}` })),
    { pid: state.haproxy.pid, marker: state.haproxy.config, what: "haproxy" },
  ];
  return procs.filter((p) => p.pid > 0 && isOurs(p.pid, p.marker));
}

function readPid(file: string): number {
  try {
    return Number(fs.readFileSync(file, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

/** Stops only the processes this fleet recorded: supervisors (which stop their service), then HAProxy. */
export async function down(dir: string): Promise<string[]> {
  const state = readState(dir);
  if (!state) return [];
  const stopped: string[] = [];
  // Services are stopped by their supervisors (SIGTERM, drain); only leftovers get SIGKILL below.
  for (const p of alive(state).filter((p) => !p.what.startsWith("service"))) {
    try {
      process.kill(p.pid, "SIGTERM");
      stopped.push(`${p.what} (pid ${p.pid})`);
    } catch {
      // gone meanwhile
    }
  }
  const end = Date.now() + (stopTimeoutSec(state.service) + 5) * 1000;
  while (Date.now() < end && alive(state).length > 0) await sleep(100);
  for (const p of alive(state)) {
    stopped.push(`${p.what} (pid ${p.pid}, SIGKILL)`);
    for (const target of [-p.pid, p.pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // not a group leader, or gone meanwhile
      }
    }
  }
  fs.rmSync(statePath(dir), { force: true });
  return stopped;
}

export interface HostDeploy {
  host: string;
  ok: boolean;
  durationMs: number;
  output: string;
}

export interface DeployResult {
  version: string;
  ok: boolean;
  durationMs: number;
  hosts: HostDeploy[];
}

export interface DeployOptions {
  bundle: string;
  version?: string;
  /** Hosts deployed at the same time (1: one at a time). */
  batch?: number;
  /** Kill and start with no drain and no wait for HAProxy: the baseline a graceful deploy is compared to. */
  naive?: boolean;
  readyTimeoutSec?: number;
  onLog?: (line: string) => void;
}

/** Runs the per-host deploy step host by host (or batch by batch), stopping at the first failure. */
export async function deploy(state: FleetState, o: DeployOptions): Promise<DeployResult> {
  if (!fs.existsSync(o.bundle)) throw new FleetError(`${o.bundle} does not exist: run \`npm run build\` first`);
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new FleetError(`--batch ${batch}: must be a positive integer`);
  const version = o.version ?? releaseId(o.bundle);
  const sha = sha256File(o.bundle);
  const t0 = performance.now();
  const results: HostDeploy[] = [];
  for (let i = 0; i < state.hosts.length; i += batch) {
    const group = state.hosts.slice(i, i + batch);
    const done = await Promise.all(group.map((h) => deployHost(state, h, { ...o, version, sha })));
    results.push(...done);
    if (done.some((d) => !d.ok)) break;
  }
  return { version, ok: results.length === state.hosts.length && results.every((r) => r.ok), durationMs: Math.round(performance.now() - t0), hosts: results };
}

function deployHost(state: FleetState, h: HostState, o: DeployOptions & { version: string; sha: string }): Promise<HostDeploy> {
  const t0 = performance.now();
  const ctl = `${process.execPath} ${path.join(state.dir, "bin", "supervisor.js")} ctl ${h.socket}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DEPLOY_ROOT: h.root,
    DEPLOY_RESTART_CMD: `${ctl} ${o.naive ? "kill" : "restart"}`,
    DEPLOY_READY_URL: `http://${h.address}:${state.service.port}/readyz`,
    DEPLOY_READY_TIMEOUT_SEC: String(o.readyTimeoutSec ?? state.readyTimeoutSec),
  };
  if (!o.naive) Object.assign(env, { DEPLOY_HAPROXY_SOCKET: state.haproxy.socket, DEPLOY_HAPROXY_SERVER: `${state.backend}/${h.name}` });
  return new Promise((resolve) => {
    const args = [path.join(state.dir, "bin", "deploy.sh"), "--source", `file://${path.resolve(o.bundle)}`, "--sha256", o.sha, "--version", o.version];
    const p = spawn("bash", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (d: Buffer) => {
      output += d;
      for (const line of d.toString().split("\n")) if (line) o.onLog?.(`${h.name}: ${line}`);
    };
    p.stdout.on("data", take);
    p.stderr.on("data", take);
    p.on("close", (code) => resolve({ host: h.name, ok: code === 0, durationMs: Math.round(performance.now() - t0), output }));
  });
}

/** Hitless reload as `systemctl reload` does it: save server states, then SIGUSR2 to the master. */
export async function reloadHaproxy(state: FleetState, config?: string): Promise<void> {
  if (config !== undefined) {
    const next = `${state.haproxy.config}.next`;
    fs.writeFileSync(next, config);
    const check = spawnSync(state.haproxy.bin, ["-c", "-q", "-f", next], { encoding: "utf8" });
    if (check.status !== 0) throw new FleetError(`the new HAProxy config is invalid:\n${check.stdout}${check.stderr}`);
    fs.renameSync(next, state.haproxy.config);
  }
  const before = await workerPid(state);
  fs.writeFileSync(state.haproxy.stateFile, await haproxyCommand(state.haproxy.socket, "show servers state"));
  process.kill(state.haproxy.pid, "SIGUSR2");
  await waitFor("HAProxy did not start a new worker", 30_000, async () => (await workerPid(state)) !== before);
}

async function workerPid(state: FleetState): Promise<string> {
  const info = await haproxyCommand(state.haproxy.socket, "show info");
  return /^Pid: (\d+)/m.exec(info)?.[1] ?? "";
}

/** Asks a host's supervisor: `crash` (SIGKILL, no restart, as a dead machine), `start`, `status`, ... */
export function superviseHost(state: FleetState, h: HostState, command: string): Promise<string> {
  return control(h.socket, command);
}

/** HAProxy's health-check transitions, from its log: why a server went DOWN or UP. */
export function healthLog(state: FleetState, last = 20): string {
  try {
    const lines = fs.readFileSync(state.haproxy.logFile, "utf8").split("\n");
    return lines.filter((l) => /Health check|is DOWN|is UP|no server available/.test(l)).slice(-last).join("\n");
  } catch {
    return "";
  }
}

export function currentRelease(h: HostState, service: string): string {
  return fs.readlinkSync(path.join(h.root, "opt", service, "current"));
}
