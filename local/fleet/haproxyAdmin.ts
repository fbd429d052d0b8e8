// The local fleet's HAProxy: its rendered config, its admin socket (server states, health checks),
// and the hitless reload `systemctl reload` does.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { HealthCheckTiming, renderHaproxyConfig } from "../../host/haproxy/config";
import { socketCommand } from "../../test/support/supervisor";
import { FleetError, FleetState, waitFor } from "./state";

/** Sends one command to HAProxy's admin socket and returns its answer. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return socketCommand(socket, command, timeoutMs);
}

export function renderFleetHaproxy(
  state: FleetState,
  check: Partial<HealthCheckTiming>,
  extra: { maxconn?: number } = {},
): string {
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

export interface ServerStatus {
  name: string;
  address: string;
  /** HAProxy's view: UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), MAINT, DRAIN. */
  status: string;
  lastCheck: string;
  current: number;
  total: number;
}

// Columns of `show stat` (HAProxy's CSV, "# pxname,svname,...").
const col = { proxy: 0, server: 1, current: 4, total: 7, status: 17, lastCheck: 36, address: 73 } as const;

export async function serverStatuses(state: FleetState): Promise<ServerStatus[]> {
  const csv = await haproxyCommand(state.haproxy.socket, "show stat");
  const lines = csv.split("\n").filter((l) => l && !l.startsWith("#"));
  return lines
    .map((l) => l.split(","))
    .filter((f) => f[col.proxy] === state.backend && f[col.server] !== "BACKEND" && f[col.server] !== "FRONTEND")
    .map((f) => ({
      name: f[col.server]!,
      status: f[col.status]!,
      lastCheck: f[col.lastCheck] ?? "",
      current: Number(f[col.current]),
      total: Number(f[col.total]),
      address: f[col.address] ?? "",
    }));
}

export async function waitAllUp(state: FleetState, timeoutMs = 60_000): Promise<void> {
  await waitFor("HAProxy did not report every server UP", timeoutMs, async () => {
    const st = await serverStatuses(state);
    return st.length === state.hosts.length && st.every((s) => s.status === "UP");
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

/** HAProxy's health-check transitions, from its log: why a server went DOWN or UP. */
export function healthLog(state: FleetState, last = 20): string {
  try {
    const lines = fs.readFileSync(state.haproxy.logFile, "utf8").split("\n");
    return lines
      .filter((l) => /Health check|is DOWN|is UP|no server available/.test(l))
      .slice(-last)
      .join("\n");
  } catch {
    return "";
  }
}
