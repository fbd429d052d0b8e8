// The cluster primary: workers forked, a crashed worker replaced, a crash loop stopped.
import net from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { alive, freePort, removeBundle, request, startService, stopAll } from "./harness";

afterEach(stopAll);
afterAll(removeBundle);

describe("cluster primary", () => {
  it("forks WORKERS workers and replaces one that crashes", async () => {
    const svc = await startService({ WORKERS: "2", DEBUG_ROUTES: "1" });
    const [first, second] = svc.workerPids();
    expect(first).not.toBe(second);

    // Crash whichever worker answers; the primary must fork a replacement.
    const crash = await request(svc, { path: "/debug/crash" });
    expect(crash.status).toBe(200);
    await svc.waitForLine(() => svc.workerPids().length === 3);
    const crashed = svc
      .workerPids()
      .slice(0, 2)
      .find((p) => !alive(p));
    expect(crashed).toBeDefined();
    expect(svc.stderr).toMatch(/deliberate crash/);
    // the crashed worker's buffered request line was written on its way out
    expect(svc.requestLines().filter((l) => l.url === "/debug/crash")).toHaveLength(1);
    expect(svc.stderr).toMatch(/worker died; respawning/);
    expect(svc.livePids()).toHaveLength(3); // primary + 2 workers
    expect((await request(svc, { path: "/api/status" })).status).toBe(200);

    process.kill(svc.pid, "SIGTERM");
    expect((await svc.exited).code).toBe(0);
  });

  it("stops a crash loop with a clear message and a non-zero exit", async () => {
    // Workers cannot listen on a port someone else holds: every worker dies at start.
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", r));
    try {
      const svc = await startService({ PORT: String(port), WORKERS: "2", CRASH_LOOP_MAX: "4" }, { waitWorkers: 0 });
      const { code } = await svc.exited;
      expect(code).toBe(70);
      expect(svc.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
      expect(svc.stderr).toMatch(/crash loop: 4 worker exits within 60000 ms \(CRASH_LOOP_MAX=4\)/);
      expect(svc.lines().filter((l) => l.msg === "worker listening")).toEqual([]);
    } finally {
      holder.close();
    }
  });
});
