// A bounded keep-alive load generator that counts every outcome per request kind and per phase.
// Not autocannon: its client silently reconnects when the server ends a connection with a request
// in flight, so a request lost that way is never counted; node:http reports it as an error.
import http from "node:http";

export type RequestKind = "get" | "post" | "slow";
export const requestKinds: RequestKind[] = ["get", "post", "slow"];

export interface LoadOptions {
  /** http://host:port of the load balancer. */
  url: string;
  /** Concurrent keep-alive loops per kind: GET /api/status, POST /api/session (JSON body), GET /api/slow. */
  connections: Record<RequestKind, number>;
  slowMs: number;
  /** Hard bounds: the run stops at whichever comes first. */
  maxDurationMs: number;
  maxRequests: number;
  /** A request that takes longer counts as failed. */
  timeoutMs: number;
}

export interface KindStats {
  requests: number;
  ok: number;
  non2xx: number;
  /** No response: reset, refused, ended early, timed out. */
  failed: number;
  errors: Record<string, number>;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

export interface PhaseStats {
  phase: string;
  durationMs: number;
  requestsPerSec: number;
  kinds: Record<RequestKind, KindStats>;
  total: { requests: number; ok: number; non2xx: number; failed: number; latencyMs: KindStats["latencyMs"] };
}

export interface LoadReport {
  phases: PhaseStats[];
  total: PhaseStats;
}

interface Sample {
  kind: RequestKind;
  phase: number;
  ms: number;
  status?: number;
  error?: string;
}

export const defaultLoad: Omit<LoadOptions, "url"> = {
  connections: { get: 24, post: 12, slow: 24 },
  slowMs: 600,
  maxDurationMs: 60_000,
  maxRequests: 200_000,
  timeoutMs: 20_000,
};

export class Load {
  private readonly samples: Sample[] = [];
  private readonly phaseNames: string[] = [];
  private readonly phaseStart: number[] = [];
  private phase = 0;
  private stopped = false;
  private started = 0;
  private loops: Promise<void>[] = [];
  private readonly agent: http.Agent;
  private readonly o: LoadOptions;
  private deadline?: NodeJS.Timeout;

  constructor(o: Partial<LoadOptions> & { url: string }) {
    this.o = { ...defaultLoad, ...o };
    const total = requestKinds.reduce((n, k) => n + this.o.connections[k], 0);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: total, maxFreeSockets: total });
  }

  /** Starts the loops; requests are attributed to the phase current when they start. */
  start(phase = "load"): this {
    this.phaseNames.push(phase);
    this.phaseStart.push(performance.now());
    this.deadline = setTimeout(() => (this.stopped = true), this.o.maxDurationMs);
    for (const kind of requestKinds)
      for (let n = 0; n < this.o.connections[kind]; n++) this.loops.push(this.loop(kind, n));
    return this;
  }

  mark(phase: string): void {
    this.phaseNames.push(phase);
    this.phaseStart.push(performance.now());
    this.phase = this.phaseNames.length - 1;
  }

  get count(): number {
    return this.samples.length;
  }

  async stop(): Promise<LoadReport> {
    this.stopped = true;
    this.phaseStart.push(performance.now());
    await Promise.all(this.loops);
    clearTimeout(this.deadline);
    this.agent.destroy();
    const phases = this.phaseNames.map((name, p) =>
      summarize(
        name,
        this.phaseStart[p + 1]! - this.phaseStart[p]!,
        this.samples.filter((s) => s.phase === p),
      ),
    );
    const all = summarize("total", this.phaseStart.at(-1)! - this.phaseStart[0]!, this.samples);
    return { phases, total: all };
  }

  private async loop(kind: RequestKind, n: number): Promise<void> {
    while (!this.stopped && this.started < this.o.maxRequests) {
      this.started++;
      this.samples.push(await this.request(kind, n));
    }
  }

  private request(kind: RequestKind, n: number): Promise<Sample> {
    const phase = this.phase;
    const t0 = performance.now();
    const body = kind === "post" ? JSON.stringify({ user: `user-${n}`, ttlSeconds: 600 }) : undefined;
    const path = kind === "get" ? "/api/status" : kind === "post" ? "/api/session" : `/api/slow?ms=${this.o.slowMs}`;
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: { status?: number; error?: string }) => {
        if (settled) return;
        settled = true;
        resolve({ kind, phase, ms: performance.now() - t0, ...r });
      };
      const req = http.request(
        `${this.o.url}${path}`,
        {
          method: body ? "POST" : "GET",
          agent: this.agent,
          timeout: this.o.timeoutMs,
          headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {},
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => done({ status: res.statusCode }));
          res.on("error", (e) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
          res.on("close", () =>
            done({ error: res.complete ? undefined : "ABORTED", status: res.complete ? res.statusCode : undefined }),
          );
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      req.on("error", (e) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      req.end(body);
    });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

function latency(samples: Sample[]): KindStats["latencyMs"] {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p90: percentile(ms, 90), p99: percentile(ms, 99), max: percentile(ms, 100) };
}

function summarize(phase: string, durationMs: number, samples: Sample[]): PhaseStats {
  const kinds = {} as Record<RequestKind, KindStats>;
  for (const kind of requestKinds) {
    const mine = samples.filter((s) => s.kind === kind);
    const k: KindStats = {
      requests: mine.length,
      ok: 0,
      non2xx: 0,
      failed: 0,
      errors: {},
      statuses: {},
      latencyMs: latency(mine),
    };
    for (const s of mine) {
      if (s.error !== undefined) {
        k.failed++;
        k.errors[s.error] = (k.errors[s.error] ?? 0) + 1;
      } else {
        k.statuses[String(s.status)] = (k.statuses[String(s.status)] ?? 0) + 1;
        if (s.status! >= 200 && s.status! < 300) k.ok++;
        else k.non2xx++;
      }
    }
    kinds[kind] = k;
  }
  const sum = (f: (k: KindStats) => number) => requestKinds.reduce((n, kind) => n + f(kinds[kind]), 0);
  return {
    phase,
    durationMs: Math.round(durationMs),
    requestsPerSec: Math.round((samples.length / Math.max(durationMs, 1)) * 1000),
    kinds,
    total: {
      requests: sum((k) => k.requests),
      ok: sum((k) => k.ok),
      non2xx: sum((k) => k.non2xx),
      failed: sum((k) => k.failed),
      latencyMs: latency(samples),
    },
  };
}

/** One line per phase and kind: what the demo and the bench print. */
export function formatReport(r: LoadReport): string {
  const rows = [["phase", "kind", "requests", "req/s", "failed", "non2xx", "p50 ms", "p90 ms", "p99 ms", "max ms"]];
  for (const p of [...r.phases, r.total]) {
    for (const kind of requestKinds) {
      const k = p.kinds[kind];
      rows.push([
        p.phase,
        kind,
        String(k.requests),
        "",
        String(k.failed),
        String(k.non2xx),
        ...Object.values(k.latencyMs).map(String),
      ]);
    }
    const t = p.total;
    rows.push([
      p.phase,
      "all",
      String(t.requests),
      String(p.requestsPerSec),
      String(t.failed),
      String(t.non2xx),
      ...Object.values(t.latencyMs).map(String),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}
