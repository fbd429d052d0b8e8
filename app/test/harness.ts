// Shared helpers for tests that run the real service: build the bundle, pick a free port, spawn the
// cluster, wait for readiness, send raw requests, and make sure every process we started is gone.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../test/support/net";
import { serviceNode } from "../../test/support/runtime";

const root = path.resolve(__dirname, "../..");
let bundle: { dir: string; file: string } | undefined;

/** Builds the bundle once per test file into a private temp dir (other suites may rebuild dist/). */
export function buildBundle(): string {
  if (!bundle) {
    const dir = mkdtempSync(path.join(tmpdir(), "app-bundle-"));
    const file = path.join(dir, "server.js");
    execFileSync(process.execPath, [path.join(root, "scripts/build.mjs"), file], { cwd: root, stdio: "pipe" });
    bundle = { dir, file };
  }
  return bundle.file;
}

export function removeBundle(): void {
  if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  bundle = undefined;
}

// The cluster cannot listen on 0 and report the port back: tests pick a free one first.
export { freePort, sleep };

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export interface LogLine {
  msg?: string;
  pid?: number;
  [k: string]: unknown;
}

export class Service {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode: number | null | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly host: string,
  ) {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitCode = code;
        // let the pipes deliver what the processes wrote last
        setTimeout(() => resolve({ code, signal }), 50);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Parsed stdout lines; throws on a line that is not JSON (the log must be one JSON object a line). */
  lines(stream: "stdout" | "stderr" = "stdout"): LogLine[] {
    return this[stream]
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          throw new Error(`${stream} line is not JSON: ${l}`);
        }
      });
  }

  requestLines(): LogLine[] {
    return this.lines().filter((l) => l.msg === "request");
  }

  /** Every worker PID the service announced (including replaced ones). */
  workerPids(): number[] {
    return [
      ...new Set(
        this.lines()
          .filter((l) => l.msg === "worker listening")
          .map((l) => l.pid!),
      ),
    ];
  }

  /** All PIDs this service started that still run. */
  livePids(): number[] {
    return [this.pid, ...this.workerPids()].filter(alive);
  }

  url(p: string): string {
    return `http://${this.host}:${this.port}${p}`;
  }

  async waitForLine(pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > until)
        throw new Error(`timed out waiting for a log line; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await sleep(25);
    }
  }

  /** Kills every process of this service still running (SIGKILL, by PID) and waits for the primary. */
  async kill(): Promise<void> {
    for (const pid of this.livePids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (this.exitCode === undefined) await this.exited;
  }
}

const running = new Set<Service>();

export interface StartOptions {
  /** Wait until /readyz answers 200 and this many workers announced themselves. */
  waitWorkers?: number;
  host?: string;
}

/** Spawns the bundled service (cluster primary) on a free loopback port, on the pinned Node production runs. */
export async function startService(env: Record<string, string> = {}, o: StartOptions = {}): Promise<Service> {
  const file = buildBundle();
  const host = o.host ?? "127.0.0.1";
  const port = env.PORT ? Number(env.PORT) : await freePort(host);
  const child = spawn(serviceNode(), [file], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: host,
      PORT: String(port),
      WORKERS: "1",
      DRAIN_DELAY_MS: "300",
      SHUTDOWN_TIMEOUT_MS: "5000",
      // an agent port nobody listens on unless a test sets one
      DD_DOGSTATSD_PORT: String(await freePort()),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const svc = new Service(child, port, host);
  running.add(svc);
  const workers = o.waitWorkers ?? Number(env.WORKERS ?? 1);
  if (workers > 0) {
    await svc.waitForLine(() => svc.workerPids().length >= workers);
    await waitReady(svc);
  }
  return svc;
}

export async function waitReady(svc: Service, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await request(svc, { path: "/readyz" }).catch(() => undefined);
    if (r?.status === 200) return;
    if (svc.exitCode !== undefined) throw new Error(`service exited (${svc.exitCode}) before ready:\n${svc.stderr}`);
    if (Date.now() > until) throw new Error(`service not ready after ${timeoutMs} ms:\n${svc.stderr}`);
    await sleep(25);
  }
}

/** Kills whatever the test left running; call from afterEach. */
export async function stopAll(): Promise<void> {
  for (const svc of running) await svc.kill();
  running.clear();
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  svc: { host: string; port: number },
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string; agent?: http.Agent },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: svc.host,
        port: svc.port,
        method: o.method ?? "GET",
        path: o.path,
        headers: o.headers,
        agent: o.agent ?? false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Writes raw bytes on a fresh socket and returns everything the server sent until it closed. */
export function rawExchange(
  svc: { host: string; port: number },
  data: string | Buffer,
  o: { endAfterWrite?: boolean; timeoutMs?: number } = {},
): Promise<{ response: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(svc.port, svc.host);
    let response = "";
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ response, closedByServer: false });
    }, o.timeoutMs ?? 10_000);
    sock.setEncoding("utf8").on("data", (d: string) => (response += d));
    sock.on("error", reject);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ response, closedByServer: true });
    });
    sock.write(data);
    if (o.endAfterWrite) sock.end();
  });
}
