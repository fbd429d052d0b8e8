// The graceful-deploy promise under real load: the real service (bundled), real HAProxy with the
// rendered config, the rendered deploy script, all on loopback. One fleet of 3 hosts x 2 workers
// serves every test in order; each test starts from every server UP.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  FleetState,
  currentRelease,
  deploy,
  down,
  findHaproxy,
  healthLog,
  localCheckDefaults,
  previousRelease,
  renderFleetHaproxy,
  reloadHaproxy,
  serverStatuses,
  superviseHost,
  up,
  waitAllUp,
} from "./fleet";
import { Load, LoadReport, formatReport, requestKinds } from "./load";
import { serviceNode } from "../test/support/runtime";
import { setTimeout as sleep } from "node:timers/promises";

let dir: string;
let state: FleetState;
let bundle: string;
let releaseNo = 0;

/** A new release: the same service, different bytes (so a new checksum), like a code change. */
function newRelease(): string {
  const file = path.join(dir, `release-${++releaseNo}.js`);
  fs.writeFileSync(file, `${fs.readFileSync(bundle, "utf8")}\n// release ${releaseNo}\n`);
  return file;
}

function load(): Load {
  // Bounded in time and count; keep-alive; GET, POST with a JSON body, and 600 ms slow GETs.
  return new Load({ url: state.url, maxDurationMs: 150_000, maxRequests: 400_000, slowMs: 600 });
}

function show(title: string, r: LoadReport): void {
  console.log(`${title}\n${formatReport(r)}`);
  if (failures(r) > 0) console.log(`HAProxy health checks:\n${healthLog(state)}`);
}

const failures = (r: LoadReport) => r.total.total.failed + r.total.total.non2xx;

/** POST /api/session through the load balancer with half its body sent; finish() sends the rest and returns the status line (or how the connection ended). */
function heldPost(url: string): { sent: Promise<void>; finish(): Promise<string> } {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ user: "held", ttlSeconds: 60 });
  const socket = net.connect(Number(port), hostname);
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (d) => (answer += d));
  const ended = new Promise<string>((resolve) => {
    socket.on("error", (e) => resolve(answer || `error ${(e as NodeJS.ErrnoException).code}`));
    socket.on("close", () => resolve(answer || "closed without an answer"));
  });
  const sent = new Promise<void>((resolve) =>
    socket.once("connect", () => {
      socket.write(
        `POST /api/session HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
      );
      resolve();
    }),
  );
  return {
    sent,
    async finish() {
      if (!socket.destroyed) socket.write(body.slice(10));
      const timer = setTimeout(() => socket.destroy(), 10_000);
      const result = await ended;
      clearTimeout(timer);
      return result.split("\r\n")[0]!;
    },
  };
}

beforeAll(async () => {
  findHaproxy(); // fails with the apt-get command when haproxy is missing
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
  bundle = path.join(dir, "server.js");
  const build = spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "build.mjs"), bundle], {
    encoding: "utf8",
  });
  expect(build.status, build.stderr).toBe(0);
  state = await up({ dir: path.join(dir, "fleet"), bundle, instances: 3, workers: 2, logLevel: "warn" });
});

afterAll(async () => {
  try {
    if (dir) await down(path.join(dir, "fleet"));
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

beforeEach(async () => {
  await waitAllUp(state);
});

describe("local fleet behind HAProxy", () => {
  it("runs the service, primary and workers, on the pinned Node production runs", () => {
    const pinned = fs.realpathSync(serviceNode());
    for (const h of state.hosts) {
      const primary = Number(fs.readFileSync(h.pidFile, "utf8"));
      const workers = fs.readFileSync(`/proc/${primary}/task/${primary}/children`, "utf8").trim().split(/\s+/);
      expect(workers, h.name).toHaveLength(2);
      for (const pid of [primary, ...workers]) expect(fs.readlinkSync(`/proc/${pid}/exe`), h.name).toBe(pinned);
    }
  });

  it("rolls 3 deploys in a row under load with zero failed and zero non-2xx requests", async () => {
    const l = load().start("before");
    await sleep(2000);
    const versions: string[] = [];
    for (let n = 1; n <= 3; n++) {
      l.mark(`deploy ${n}`);
      const r = await deploy(state, { bundle: newRelease() });
      expect(r.ok, r.hosts.map((h) => h.output).join("\n")).toBe(true);
      versions.push(r.version);
      console.log(`deploy ${n}: ${r.durationMs} ms (${r.hosts.map((h) => `${h.host} ${h.durationMs} ms`).join(", ")})`);
    }
    l.mark("after");
    await sleep(2000);
    const report = await l.stop();
    show("rolling deploys", report);
    for (const h of state.hosts) {
      expect(currentRelease(h, state.service.name)).toBe(`releases/${versions[2]}`);
      expect(previousRelease(h, state.service.name)).toBe(`releases/${versions[1]}`);
    }
    for (const kind of requestKinds) {
      expect(report.total.kinds[kind].requests).toBeGreaterThan(0);
      expect(
        report.total.kinds[kind].failed,
        `${kind} failed: ${JSON.stringify(report.total.kinds[kind].errors)}`,
      ).toBe(0);
      expect(
        report.total.kinds[kind].non2xx,
        `${kind} statuses: ${JSON.stringify(report.total.kinds[kind].statuses)}`,
      ).toBe(0);
    }
  });

  it("shows failures when the same deploy restarts naively (kill and start, no drain)", async () => {
    const l = load().start("before");
    await sleep(1000);
    // A POST whose body is still arriving when its host is killed: HAProxy cannot replay it elsewhere, so a
    // naive restart fails it for certain (the load's own requests may all be retried or fall between kills).
    const held = heldPost(state.url);
    await held.sent;
    l.mark("naive deploy");
    const r = await deploy(state, { bundle: newRelease(), naive: true });
    expect(r.ok).toBe(true);
    const answer = await held.finish();
    l.mark("after");
    await sleep(1000);
    const report = await l.stop();
    show("naive deploy", report);
    console.log(`held POST across the naive deploy: ${answer}; load failures: ${failures(report)}`);
    expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it("stops sending to a host killed with SIGKILL; no idempotent request fails", async () => {
    const victim = state.hosts[1]!;
    const l = load().start("before");
    await sleep(1000);
    l.mark("host killed");
    const killedAt = performance.now();
    await superviseHost(victim, "crash");
    let down: { total: number } | undefined;
    while (!down) {
      const s = (await serverStatuses(state)).find((x) => x.name === victim.name)!;
      if (s.status.startsWith("DOWN")) down = s;
      else await sleep(20);
    }
    const detectMs = Math.round(performance.now() - killedAt);
    await sleep(1000);
    const later = (await serverStatuses(state)).find((x) => x.name === victim.name)!;
    l.mark("after");
    await sleep(1000);
    const report = await l.stop();
    await superviseHost(victim, "start");
    show(`SIGKILL of ${victim.name}: HAProxy marked it DOWN after ${detectMs} ms`, report);
    console.log(
      `non-idempotent (POST) requests failed: ${report.total.kinds.post.failed + report.total.kinds.post.non2xx}`,
    );
    // Once DOWN, HAProxy sends it nothing more.
    expect(later.total).toBe(down.total);
    for (const kind of ["get", "slow"] as const) {
      expect(report.total.kinds[kind].failed, JSON.stringify(report.total.kinds[kind].errors)).toBe(0);
      expect(report.total.kinds[kind].non2xx, JSON.stringify(report.total.kinds[kind].statuses)).toBe(0);
    }
  });

  it("stops a rollout whose release never becomes ready at the first host and rolls it back", async () => {
    const before = state.hosts.map((h) => currentRelease(h, state.service.name));
    const beforePrevious = state.hosts.map((h) => previousRelease(h, state.service.name));
    const broken = path.join(dir, "broken.js");
    fs.writeFileSync(broken, 'console.error("this release cannot start"); process.exit(1);\n');
    const l = load().start("before");
    await sleep(1000);
    l.mark("broken deploy");
    const r = await deploy(state, { bundle: broken, readyTimeoutSec: 4 });
    l.mark("after");
    await waitAllUp(state);
    await sleep(1000);
    const report = await l.stop();
    show("broken release", report);
    expect(r.ok).toBe(false);
    expect(r.hosts.map((h) => h.host)).toEqual([state.hosts[0]!.name]);
    expect(r.hosts[0]!.output).toMatch(/rolling back/);
    expect(state.hosts.map((h) => currentRelease(h, state.service.name))).toEqual(before);
    expect(state.hosts.map((h) => previousRelease(h, state.service.name))).toEqual(beforePrevious);
    expect(failures(report)).toBe(0);
  });

  it("reloads HAProxy with a changed config under load with zero failed requests", async () => {
    const l = load().start("before");
    await sleep(1000);
    l.mark("reloads");
    for (const maxconn of [3000, 4096]) {
      await reloadHaproxy(state, renderFleetHaproxy(state, localCheckDefaults, { maxconn }));
      await sleep(1000);
    }
    l.mark("after");
    await sleep(1000);
    const report = await l.stop();
    show("HAProxy reloads", report);
    expect(fs.readFileSync(state.haproxy.config, "utf8")).toMatch(/maxconn 4096/);
    expect((await serverStatuses(state)).map((s) => s.status)).toEqual(["UP", "UP", "UP"]);
    expect(failures(report)).toBe(0);
  });
});
