// Graceful shutdown of the real cluster: readiness flip, drain under load, deadlines, no orphans.
import net from "node:net";
import type { EventEmitter } from "node:events";
import autocannon from "autocannon";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { alive, rawExchange, removeBundle, request, sleep, startService, stopAll } from "./harness";

afterEach(stopAll);
afterAll(removeBundle);

describe("graceful shutdown", () => {
  it("fails readiness at once on SIGTERM while liveness and traffic stay ok during the drain delay", async () => {
    const svc = await startService({ WORKERS: "2", DRAIN_DELAY_MS: "1500", SHUTDOWN_TIMEOUT_MS: "6000" });
    const pids = svc.livePids();
    expect(pids).toHaveLength(3);
    process.kill(svc.pid, "SIGTERM");
    // Both workers stop being ready within a few polls (they hear the primary over IPC).
    let notReady = 0;
    for (let i = 0; i < 40 && notReady < 4; i++) {
      const r = await request(svc, { path: "/readyz" });
      if (r.status === 503) notReady++;
      else expect(notReady).toBe(0); // once failing, readiness never comes back
      await sleep(10);
    }
    expect(notReady).toBe(4);
    expect((await request(svc, { path: "/healthz" })).status).toBe(200);
    expect((await request(svc, { path: "/api/status" })).status).toBe(200);
    const { code } = await svc.exited;
    expect(code).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("under 200 keep-alive connections with slow requests: no request started before readiness failed is lost", async () => {
    const svc = await startService({ WORKERS: "2", DRAIN_DELAY_MS: "500", SHUTDOWN_TIMEOUT_MS: "15000" });
    const pids = svc.livePids();
    const connections = 200;
    const answeredIds: string[] = [];
    const onResponse = (_s: number, _b: string, _c: unknown, headers: Record<string, string>) =>
      answeredIds.push(headers["x-request-id"]!);
    const load = autocannon({
      url: svc.url(""),
      connections,
      duration: 20, // bound; stopped as soon as the service is gone
      timeout: 10,
      requests: [
        { path: "/api/status", onResponse },
        {
          path: "/api/session",
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"user":"load"}',
          onResponse,
        },
        { path: "/api/slow?ms=1000", onResponse },
      ],
    });

    // Per connection (pipelining 1): the request in flight, answered or lost. autocannon reconnects
    // silently when a server ends a connection, so a request that gets no response before the next
    // one starts is counted as lost here.
    const lost: number[] = [];
    let answered = 0;
    let slowAnsweredAfterSigterm = 0;
    let sigtermAt = Infinity;
    const clients = new Set<EventEmitter>();
    load.on("response", (client: EventEmitter, status: number, _bytes: number, latencyMs: number) => {
      answered++;
      if (latencyMs >= 1000 && Date.now() > sigtermAt) slowAnsweredAfterSigterm++;
      expect(status).toBeLessThan(300);
      if (clients.has(client)) return;
      clients.add(client);
      let inFlight: number | undefined;
      client.on("request", () => {
        if (inFlight !== undefined) lost.push(inFlight);
        inFlight = Date.now();
      });
      client.on("response", () => (inFlight = undefined));
      client.on("connError", () => {
        if (inFlight !== undefined) lost.push(inFlight);
        inFlight = undefined;
      });
    });

    // Every connection seen and slow requests in flight, then SIGTERM.
    for (let i = 0; i < 300 && clients.size < connections; i++) await sleep(20);
    expect(clients.size).toBe(connections);
    await sleep(500);
    sigtermAt = Date.now();
    process.kill(svc.pid, "SIGTERM");
    let readinessFailedAt = Infinity;
    for (let i = 0; i < 200; i++) {
      const r = await request(svc, { path: "/readyz" }).catch(() => undefined);
      if (r?.status === 503) {
        readinessFailedAt = Date.now();
        break;
      }
      await sleep(10);
    }
    expect(readinessFailedAt).toBeLessThan(Infinity);

    const { code } = await svc.exited;
    load.stop();
    await load;

    const lostBeforeReadinessFailed = lost.filter((t) => t < readinessFailedAt);
    expect(lostBeforeReadinessFailed).toEqual([]);
    expect(slowAnsweredAfterSigterm).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(pids.filter(alive)).toEqual([]);

    // stdout: exactly one request line per answered request, none lost in a buffer at exit, none twice.
    const lines = svc.requestLines();
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(lines.length);
    expect(answeredIds).toHaveLength(answered);
    const logged = new Set(lines.filter((l) => !l.aborted).map((l) => l.requestId));
    expect(answeredIds.filter((id) => !logged.has(id))).toEqual([]);
    // A response the server wrote but the client never read can only come from a connection the
    // server closed after it stopped accepting: autocannon ignores `Connection: close` and sends its
    // next request at once, and closing a socket with that unread request makes the kernel send a
    // reset that can discard the response in the client's buffer. Anything else would be a bug.
    const stoppedAccepting = Math.min(
      ...svc
        .lines()
        .filter((l) => l.msg === "shutdown: stopped accepting")
        .map((l) => l.time as number),
    );
    const received = new Set(answeredIds);
    const unread = lines.filter((l) => !l.aborted && !received.has(l.requestId as string));
    expect(unread.filter((l) => (l.time as number) < stoppedAccepting)).toEqual([]);
    expect(svc.stderr).toBe("");
  });

  it("does not let an idle keep-alive client hold shutdown", async () => {
    const svc = await startService({ WORKERS: "1", DRAIN_DELAY_MS: "200", SHUTDOWN_TIMEOUT_MS: "20000" });
    const sock = net.connect(svc.port, svc.host);
    sock.on("error", () => undefined);
    let data = "";
    sock.setEncoding("utf8").on("data", (d: string) => (data += d));
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.write("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!data.includes("\r\n\r\n")) await sleep(10);
    process.kill(svc.pid, "SIGTERM");
    const { code } = await svc.exited;
    await closed;
    // exit 0 without the deadline line: the idle socket was closed, not waited for (20 s)
    expect(code).toBe(0);
    expect(svc.lines().some((l) => l.msg === "shutdown: deadline reached, cutting open requests")).toBe(false);
  });

  it("cuts a request that never ends at the deadline and exits non-zero", async () => {
    const svc = await startService({ WORKERS: "1", DRAIN_DELAY_MS: "200", SHUTDOWN_TIMEOUT_MS: "2000" });
    const pids = svc.livePids();
    const never = rawExchange(svc, "GET /api/slow?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n", { timeoutMs: 15_000 });
    await sleep(200);
    process.kill(svc.pid, "SIGTERM");
    const { code } = await svc.exited;
    const { response, closedByServer } = await never;
    expect(closedByServer).toBe(true);
    expect(response).toBe("");
    expect(code).toBe(1);
    expect(svc.stderr).toMatch(/deadline reached, cutting open requests/);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("forces exit on a second signal", async () => {
    const svc = await startService({ WORKERS: "2", DRAIN_DELAY_MS: "20000", SHUTDOWN_TIMEOUT_MS: "30000" });
    const pids = svc.livePids();
    process.kill(svc.pid, "SIGTERM");
    await svc.waitForLine((l) => l.msg === "shutdown: asking workers to drain");
    process.kill(svc.pid, "SIGINT");
    const { code } = await svc.exited;
    expect(code).toBe(130);
    expect(svc.stderr).toMatch(/second signal/);
    for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(20);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("leaves no orphaned worker when the primary is killed", async () => {
    const svc = await startService({ WORKERS: "2" });
    const workers = svc.workerPids();
    expect(workers).toHaveLength(2);
    for (let i = 0; i < 10; i++) await request(svc, { path: `/api/status?before-kill-${i}` });
    process.kill(svc.pid, "SIGKILL");
    await svc.exited;
    for (let i = 0; i < 100 && workers.some(alive); i++) await sleep(20);
    expect(workers.filter(alive)).toEqual([]);
    // workers that exit because the primary died still write their buffered request lines
    await sleep(100);
    expect(svc.requestLines().filter((l) => String(l.url).startsWith("/api/status?before-kill-"))).toHaveLength(10);
  });
});
