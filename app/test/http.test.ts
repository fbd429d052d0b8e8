// Routes, bad input, the request log and the keep-alive/header timeouts, against the real bundle.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawExchange, removeBundle, request, type Service, sleep, startService, stopAll } from "./harness";

let svc: Service;

beforeAll(async () => {
  svc = await startService({
    WORKERS: "1",
    MAX_BODY_BYTES: "1024",
    KEEP_ALIVE_TIMEOUT_MS: "1500",
    HEADERS_TIMEOUT_MS: "2000",
    REQUEST_TIMEOUT_MS: "3000",
    DD_ENV: "test",
    DD_VERSION: "1.2.3",
  });
});
afterAll(async () => {
  try {
    await stopAll();
  } finally {
    removeBundle();
  }
});

const json = { "content-type": "application/json" };

describe("routes", () => {
  it("answers status, session and slow", async () => {
    const status = await request(svc, { path: "/api/status" });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ status: "ok" });

    const session = await request(svc, { method: "POST", path: "/api/session", headers: json, body: '{"user":"ada"}' });
    expect(session.status).toBe(201);
    expect(JSON.parse(session.body)).toMatchObject({ user: "ada", sessionId: expect.any(String) });

    const slow = await request(svc, { path: "/api/slow?ms=200" });
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.body)).toEqual({ sleptMs: 200 });
  });

  it("has separate liveness and readiness", async () => {
    expect((await request(svc, { path: "/healthz" })).status).toBe(200);
    expect((await request(svc, { path: "/readyz" })).status).toBe(200);
  });

  it("rejects bad input with 4xx and one clear message", async () => {
    const cases: [Parameters<typeof request>[1], number, RegExp][] = [
      [{ method: "POST", path: "/api/session", headers: json, body: '{"user":' }, 400, /not valid JSON/],
      [{ method: "POST", path: "/api/session", headers: json, body: '{"user":42}' }, 400, /body\.user/],
      [
        { method: "POST", path: "/api/session", headers: { "content-type": "text/plain" }, body: "hi" },
        415,
        /application\/json/,
      ],
      [
        { method: "POST", path: "/api/session", headers: json, body: JSON.stringify({ user: "x".repeat(2000) }) },
        413,
        /larger than 1024/,
      ],
      [{ path: "/api/slow?ms=30001" }, 400, /ms must be/],
      [{ path: "/api/slow?ms=abc" }, 400, /ms must be/],
      [{ path: "/api/slow" }, 400, /ms must be/],
      [{ method: "DELETE", path: "/api/status" }, 405, /not allowed/],
      [{ path: "/nope" }, 404, /no route/],
      [{ path: "/debug/block?ms=1" }, 404, /no route/], // debug routes are off by default
    ];
    for (const [req, status, message] of cases) {
      const r = await request(svc, req);
      expect(r.status, `${req.method ?? "GET"} ${req.path}`).toBe(status);
      expect(JSON.parse(r.body).error).toMatch(message);
    }
  });

  it("answers 413 on a chunked body over the limit without reading it all", async () => {
    const head =
      "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const chunk = "x".repeat(800);
    const body = `${(800).toString(16)}\r\n${chunk}\r\n`.repeat(3);
    const { response } = await rawExchange(svc, head + body);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
  });

  it("closes malformed requests and oversize headers with 4xx, and keeps serving", async () => {
    const garbage = await rawExchange(svc, "THIS IS NOT HTTP\r\n\r\n");
    expect(garbage.response).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage.closedByServer).toBe(true);

    const huge = await rawExchange(svc, `GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(huge.response).toMatch(/^HTTP\/1\.1 431 /);

    const badLength = await rawExchange(svc, "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
    expect(badLength.response).toMatch(/^HTTP\/1\.1 400 /);

    expect((await request(svc, { path: "/api/status" })).status).toBe(200);
    expect(svc.exitCode).toBeUndefined();
    expect(svc.stderr).not.toMatch(/unhandled|uncaught/i);
  });
});

describe("request log", () => {
  it("writes one JSON line per request with method, url, status, durationMs and the echoed request id", async () => {
    const r = await request(svc, { path: "/api/status?probe1", headers: { "x-request-id": "trace-abc.123" } });
    expect(r.headers["x-request-id"]).toBe("trace-abc.123");
    const generated = await request(svc, { path: "/api/status?probe2" });
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    // an unsafe inbound id is replaced, not echoed
    const unsafe = await request(svc, { path: "/api/status?probe3", headers: { "x-request-id": "a b" } });
    const long = await request(svc, { path: "/api/status?probe4", headers: { "x-request-id": "x".repeat(200) } });
    expect(long.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);

    await svc.waitForLine((l) => l.url === "/api/status?probe4");
    const line = svc.requestLines().find((l) => l.url === "/api/status?probe1");
    expect(line).toMatchObject({
      method: "GET",
      url: "/api/status?probe1",
      status: 200,
      requestId: "trace-abc.123",
      level: 30,
    });
    expect(typeof line!.durationMs).toBe("number");
    expect(svc.requestLines().find((l) => l.url === "/api/status?probe2")!.requestId).toBe(
      generated.headers["x-request-id"],
    );
    // 4xx lines carry their status too
    expect(svc.requestLines().some((l) => l.url === "/nope" && l.status === 404)).toBe(true);
  });

  it("logs the path and the query's keys, never a query value; LOG_FULL_URL=1 logs the whole URL", async () => {
    const r = await request(svc, { path: "/api/status?token=secret&x=1&flag&e=a%40b.c" });
    expect(r.status).toBe(200);
    const nope = await request(svc, { path: "/nope?token=secret2" });
    expect(nope.status).toBe(404);
    await svc.waitForLine((l) => l.url === "/nope?token");
    expect(svc.requestLines().some((l) => l.url === "/api/status?token&x&flag&e")).toBe(true);
    expect(svc.stdout + svc.stderr).not.toMatch(/secret|a%40b/);

    const full = await startService({ WORKERS: "1", LOG_FULL_URL: "1" });
    await request(full, { path: "/api/status?token=secret&x=1" });
    await full.waitForLine((l) => l.url === "/api/status?token=secret&x=1");
  });

  it("does not log health checks", async () => {
    const before = svc.requestLines().length;
    for (let i = 0; i < 5; i++) {
      await request(svc, { path: "/healthz" });
      await request(svc, { path: "/readyz" });
    }
    await request(svc, { path: "/api/status?after-health" });
    await svc.waitForLine((l) => l.url === "/api/status?after-health");
    const after = svc.requestLines().slice(before);
    expect(after.map((l) => l.url)).toEqual(["/api/status?after-health"]);
  });
});

describe("timeouts for life behind a load balancer", () => {
  it("keeps an idle keep-alive socket open until KEEP_ALIVE_TIMEOUT_MS, then closes it", async () => {
    const sock = net.connect(svc.port, svc.host);
    let data = "";
    sock.setEncoding("utf8").on("data", (d: string) => (data += d));
    const closed = new Promise<number>((r) => sock.once("close", () => r(Date.now())));
    await new Promise((r) => sock.once("connect", r));
    sock.write("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!data.includes("\r\n\r\n")) await sleep(10);
    const answeredAt = Date.now();
    expect(data).toMatch(/Keep-Alive: timeout=1\b/);
    // Half the timeout later the same socket still serves a request.
    await sleep(750);
    sock.write("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n");
    while ((data.match(/HTTP\/1\.1 200/g) ?? []).length < 2) await sleep(10);
    const secondAt = Date.now();
    const closedAt = await closed;
    // Closed by the server after roughly the idle timeout (not before it).
    expect(closedAt - secondAt).toBeGreaterThanOrEqual(1400);
    expect(answeredAt).toBeLessThan(secondAt);
  });

  it("cuts a client that never finishes its headers (HEADERS_TIMEOUT_MS)", async () => {
    const started = Date.now();
    const { response, closedByServer } = await rawExchange(svc, "GET /api/status HTTP/1.1\r\nHost: x\r\n", {
      timeoutMs: 8000,
    });
    expect(closedByServer).toBe(true);
    expect(response === "" || /^HTTP\/1\.1 408 /.test(response)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(svc.exitCode).toBeUndefined();
  });

  it("cuts a client that sends its body too slowly (REQUEST_TIMEOUT_MS)", async () => {
    const sock = net.connect(svc.port, svc.host);
    let response = "";
    sock.setEncoding("utf8").on("data", (d: string) => (response += d));
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.on("error", () => undefined);
    sock.write(
      "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const drip = setInterval(() => sock.write(" "), 500);
    await Promise.race([closed, sleep(8000)]);
    clearInterval(drip);
    expect(sock.destroyed || sock.readableEnded).toBe(true);
    expect(response === "" || /^HTTP\/1\.1 408 /.test(response)).toBe(true);
    sock.destroy();
    expect((await request(svc, { path: "/api/status" })).status).toBe(200);
  });
});
