// The local fleet's options, its recorded state (state.json) and the host layout of each simulated
// host: contract/layout.ts's paths, rooted under the host's own folder.
import { sha256File } from "../../contract/digest";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HostPaths, hostPaths } from "../../contract/layout";
import { ServiceSettings } from "../../contract/service";
import { HealthCheckTiming } from "../../host/haproxy/config";
import { tool } from "../../test/support/tools";

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
  /** The simulated host's `/`: the host layout lives under it. */
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
  haproxy: {
    pid: number;
    config: string;
    socket: string;
    stateFile: string;
    logFile: string;
    port: number;
    statsPort: number;
    bin: string;
  };
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

/** The host layout of a simulated host: every path of contract/layout.ts under the host's root. */
export function hostLayout(root: string, service: string): HostPaths {
  const p = hostPaths(service);
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, path.join(root, v)])) as HostPaths;
}

/** The haproxy binary, or a FleetError with the command that installs it. */
export function findHaproxy(): string {
  try {
    return tool("haproxy");
  } catch (e) {
    throw new FleetError(`${(e as Error).message} (as root) and try again`);
  }
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

export function saveState(state: FleetState): void {
  fs.writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2));
}

export function forgetState(dir: string): void {
  fs.rmSync(statePath(dir), { force: true });
}

export function readPid(file: string): number {
  try {
    return Number(fs.readFileSync(file, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

/** Polls until `probe` is true; a FleetError saying `what` after the timeout. */
export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
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
