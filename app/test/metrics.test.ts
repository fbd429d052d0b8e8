// DogStatsD metrics received by a real UDP socket on loopback, and an absent agent changing nothing.
import dgram from "node:dgram";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeBundle, request, sleep, startService, stopAll } from "./harness";

let agent: dgram.Socket;
let received: string[];

beforeEach(async () => {
  received = [];
  agent = dgram.createSocket("udp4");
  agent.on("message", (m) => received.push(...m.toString("utf8").split("\n").filter(Boolean)));
  await new Promise<void>((r) => agent.bind(0, "127.0.0.1", r));
});
afterEach(async () => {
  try {
    await stopAll();
  } finally {
    agent.close();
  }
});
afterAll(removeBundle);

const agentPort = () => String(agent.address().port);
// name:value[:value...]|type[|@rate][|#tag,tag][|c:container-or-origin][|e:external][|card:cardinality]
const DOGSTATSD_LINE =
  /^[a-z][a-z0-9_.]*:-?[0-9.e+-]+(?::-?[0-9.e+-]+)*\|(?:c|g|ms)(?:\|@[0-9.]+)?(?:\|#[^|,]+(?:,[^|,]+)*)?(?:\|(?:c|e|card):[^|]+)*$/;

function parse(line: string) {
  const [head, ...fields] = line.split("|");
  const [name, ...values] = head!.split(":");
  const tags = (fields.find((f) => f.startsWith("#")) ?? "#").slice(1).split(",").filter(Boolean);
  return { name: name!, values: values.map(Number), type: fields[0]!, tags };
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received:\n${received.join("\n")}`);
    await sleep(25);
  }
}

describe("metrics", () => {
  it("sends well-formed DogStatsD lines with names and tags, and flushes on shutdown", async () => {
    // A long interval: everything below arrives through the shutdown flush.
    const svc = await startService({
      DD_DOGSTATSD_PORT: agentPort(),
      DD_ENV: "test",
      DD_SERVICE: "svc-x",
      DD_VERSION: "9.9",
      METRICS_INTERVAL_MS: "60000",
    });
    for (let i = 0; i < 25; i++) expect((await request(svc, { path: "/api/status" })).status).toBe(200);
    for (let i = 0; i < 3; i++) await request(svc, { path: "/nope" });
    process.kill(svc.pid, "SIGTERM");
    expect((await svc.exited).code).toBe(0);
    await sleep(100);

    for (const line of received) expect(line).toMatch(DOGSTATSD_LINE);
    const metrics = received.map(parse);
    const global = ["service:svc-x", "env:test", "version:9.9"];
    const counts = (route: string, cls: string) =>
      metrics
        .filter(
          (m) =>
            m.name === "app.request.count" &&
            m.type === "c" &&
            m.tags.includes(`route:${route}`) &&
            m.tags.includes(`status_class:${cls}`),
        )
        .reduce((sum, m) => sum + m.values[0]!, 0);
    expect(counts("/api/status", "2xx")).toBe(25);
    expect(counts("unmatched", "4xx")).toBe(3);
    const durations = metrics.filter(
      (m) => m.name === "app.request.duration" && m.type === "ms" && m.tags.includes("route:/api/status"),
    );
    expect(durations.flatMap((m) => m.values)).toHaveLength(25);
    for (const m of metrics.filter((x) => x.name.startsWith("app.request.")))
      expect(m.tags).toEqual(expect.arrayContaining(global));
  });

  it("reports process gauges every METRICS_INTERVAL_MS, and the event-loop delay rises when the loop is blocked", async () => {
    const svc = await startService({ DD_DOGSTATSD_PORT: agentPort(), METRICS_INTERVAL_MS: "300", DEBUG_ROUTES: "1" });
    const gauges = (name: string) =>
      received
        .map(parse)
        .filter((m) => m.name === name && m.type === "g" && m.tags.includes("worker:0"))
        .map((m) => m.values[0]!);
    const names = ["p50", "p99", "max"].map((p) => `app.event_loop.delay.${p}`);
    names.push(
      "app.event_loop.utilization",
      "app.memory.heap_used",
      "app.memory.rss",
      "app.cpu.percent",
      "app.disk.free",
    );
    await until(() => names.every((n) => gauges(n).length >= 2), "every process gauge twice");
    expect(gauges("app.memory.rss")[0]).toBeGreaterThan(1_000_000);
    expect(gauges("app.disk.free")[0]).toBeGreaterThan(0);
    const u = gauges("app.event_loop.utilization")[0]!;
    expect(u >= 0 && u <= 1).toBe(true);

    const before = gauges("app.event_loop.delay.max");
    expect(Math.min(...before)).toBeLessThan(500);
    const seen = before.length;
    expect((await request(svc, { path: "/debug/block?ms=1000" })).status).toBe(200);
    // Counted from the answer, not from the request: on a loaded machine the request may wait through several
    // intervals before the block runs, and their gauges must not end the wait before the block's own one arrives.
    const atAnswer = gauges("app.event_loop.delay.max").length;
    await until(() => gauges("app.event_loop.delay.max").length >= atAnswer + 2, "gauges after the block");
    const after = gauges("app.event_loop.delay.max").slice(seen);
    expect(Math.max(...after)).toBeGreaterThanOrEqual(500);
  });

  it("changes nothing for clients when the agent is absent or its host does not resolve", async () => {
    for (const env of [{}, { DD_AGENT_HOST: "no-such-agent.invalid" }] as Record<string, string>[]) {
      const svc = await startService({ ...env, METRICS_INTERVAL_MS: "100" });
      for (let i = 0; i < 50; i++) expect((await request(svc, { path: "/api/status" })).status).toBe(200);
      await sleep(300); // a few metric flushes into the void
      for (let i = 0; i < 50; i++) expect((await request(svc, { path: "/api/status" })).status).toBe(200);
      expect(svc.exitCode).toBeUndefined();
      process.kill(svc.pid, "SIGTERM");
      expect((await svc.exited).code).toBe(0);
      expect(svc.stderr).not.toMatch(/uncaught|unhandled/i);
    }
  });
});
