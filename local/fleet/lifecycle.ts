// The local fleet's life: `up` boots N simulated hosts (the bundled service in cluster mode on
// 127.0.1.<i>, each with its own root dir in the host layout and a supervisor standing in for
// systemd) and puts the real HAProxy with the rendered config in front; `down` stops what it started.
import { sha256File } from "../../contract/digest";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hostPaths } from "../../contract/layout";
import { nodeRuntime } from "../../contract/runtime";
import { ServiceSettings, stopTimeoutSec, withServiceDefaults } from "../../contract/service";
import { HostInput, renderEnvFile, renderHostFiles, withHostDefaults } from "../../host";
import { freePort } from "../../test/support/net";
import { buildSupervisor, isOurs } from "../../test/support/processes";
import { SupervisorConfig, control } from "../../test/support/supervisor";
import { installFirstRelease } from "./deploy";
import { renderFleetHaproxy, waitAllUp } from "./haproxyAdmin";
import {
  FleetError,
  FleetOptions,
  FleetState,
  HostState,
  findHaproxy,
  forgetState,
  hostLayout,
  readPid,
  readState,
  releaseId,
  saveState,
  waitFor,
  withFleetDefaults,
} from "./state";

/** The host input a simulated host is rendered from. Its bundle URL is a placeholder: the fleet installs from a file. */
function fleetHostInput(service: ServiceSettings, bundle: string, version: string): HostInput {
  return withHostDefaults({
    env: "local",
    service,
    version,
    bundle: { url: `s3://local-fleet/${service.name}/${version}/server.js`, sha256: sha256File(bundle) },
    runtime: {
      url: `s3://local-fleet/runtimes/${nodeRuntime.sha256.x64}`,
      sha256: nodeRuntime.sha256.x64,
      version: nodeRuntime.version,
    },
  });
}

/**
 * What the user-data writes on a host, for the files the fleet uses: the env file (with the simulated
 * host's own address, log level and disk appended, later lines win) and the deploy script.
 */
function writeHostFiles(h: HostState, input: HostInput, logLevel: string): void {
  const l = hostLayout(h.root, input.service.name);
  for (const d of [path.dirname(l.envFile), path.dirname(l.deployScript), l.logDir, path.dirname(h.socket)])
    fs.mkdirSync(d, { recursive: true });
  const simulated = `# local fleet: simulated host ${h.name}\nHOST=${h.address}\nLOG_LEVEL=${logLevel}\nDISK_PATH=${l.root}\n`;
  fs.writeFileSync(l.envFile, renderEnvFile(input) + simulated);
  const deployScript = renderHostFiles(input).find((f) => f.path === hostPaths(input.service.name).deployScript)!;
  fs.writeFileSync(l.deployScript, deployScript.content, { mode: 0o755 });
}

export async function up(options: Partial<FleetOptions> & { dir: string; bundle: string }): Promise<FleetState> {
  const o = withFleetDefaults(options);
  if (!Number.isInteger(o.instances) || o.instances < 1 || o.instances > 20)
    throw new FleetError(`--instances ${o.instances}: must be 1-20`);
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 16)
    throw new FleetError(`--workers ${o.workers}: must be 1-16`);
  if (!fs.existsSync(o.bundle)) throw new FleetError(`${o.bundle} does not exist: run \`npm run build\` first`);
  const haproxyBin = findHaproxy();
  const existing = readState(o.dir);
  if (existing && alive(existing).length > 0)
    throw new FleetError(`a local fleet is already running from ${o.dir}: run \`npm run local -- down\` first`);

  const addresses = Array.from({ length: o.instances }, (_, n) => `127.0.1.${n + 1}`);
  const port = await freePort(addresses);
  const service = withServiceDefaults({ ...o.service, port, workers: o.workers });
  const [lbPort, statsPort] = [await freePort(["127.0.0.1"]), await freePort(["127.0.0.1"])];
  fs.rmSync(o.dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(o.dir, "bin"), { recursive: true });
  const supervisor = buildSupervisor(path.join(o.dir, "bin", "supervisor.js"));
  const version = releaseId(o.bundle);
  const input = fleetHostInput(service, o.bundle, version);

  const hosts: HostState[] = addresses.map((address, n) => {
    const name = `h${n + 1}`;
    const root = path.join(o.dir, "hosts", name);
    const l = hostLayout(root, service.name);
    const run = path.join(root, "run");
    const h: HostState = {
      name,
      address,
      root,
      socket: path.join(run, "supervisor.sock"),
      supervisorConfig: path.join(run, "supervisor.json"),
      supervisorPid: 0,
      pidFile: path.join(run, `${service.name}.pid`),
      logFile: l.logFile,
    };
    writeHostFiles(h, input, o.logLevel);
    const cfg: SupervisorConfig = {
      root,
      service: service.name,
      envFile: l.envFile,
      logFile: h.logFile,
      socket: h.socket,
      pidFile: h.pidFile,
      stopTimeoutSec: stopTimeoutSec(service),
      restartSec: o.restartSec,
    };
    fs.writeFileSync(h.supervisorConfig, JSON.stringify(cfg, null, 2));
    return h;
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
    // The supervisors wait, as an installed unit does, until the boot's deploy step starts the service.
    for (const h of hosts) {
      const p = spawn(process.execPath, [supervisor, "run", h.supervisorConfig], { detached: true, stdio: "ignore" });
      p.unref();
      h.supervisorPid = p.pid!;
      saveState(state);
    }
    for (const h of hosts)
      await waitFor(
        `the supervisor of ${h.name} did not answer`,
        10_000,
        async () => (await control(h.socket, "status", 1000)) !== "",
      );
    const boot = await installFirstRelease(state, o.bundle, version);
    const failed = boot.hosts.find((h) => !h.ok);
    if (failed) throw new FleetError(`the first install on ${failed.host} failed:\n${failed.output.trimEnd()}`);
    const log = fs.openSync(state.haproxy.logFile, "a");
    const p = spawn(haproxyBin, ["-f", state.haproxy.config], { detached: true, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    p.unref();
    state.haproxy.pid = p.pid!;
    saveState(state);
    await waitAllUp(state, o.readyTimeoutSec * 1000);
  } catch (e) {
    const tail = fs.existsSync(state.haproxy.logFile)
      ? fs.readFileSync(state.haproxy.logFile, "utf8").split("\n").slice(-5).join("\n")
      : "";
    await down(o.dir);
    throw new FleetError(`the fleet did not come up: ${(e as Error).message}${tail ? `\nhaproxy log:\n${tail}` : ""}`);
  }
  return state;
}

/** The recorded PIDs still running, with the marker that proves each is ours. */
function alive(state: FleetState): { pid: number; marker: string; what: string }[] {
  const procs = [
    ...state.hosts.map((h) => ({ pid: h.supervisorPid, marker: h.supervisorConfig, what: `supervisor ${h.name}` })),
    ...state.hosts.map((h) => ({
      pid: readPid(h.pidFile),
      marker: hostLayout(h.root, state.service.name).root,
      what: `service ${h.name}`,
    })),
    { pid: state.haproxy.pid, marker: state.haproxy.config, what: "haproxy" },
  ];
  return procs.filter((p) => p.pid > 0 && isOurs(p.pid, p.marker));
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
  forgetState(dir);
  return stopped;
}
