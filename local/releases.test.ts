// Releases on the local fleet as a host gets them: `up` boots every host, and the boot installs release 1
// through the host's own deploy script (the file the user-data writes); then deploy, roll back, deploy
// again, roll back twice, under light load. After every step, on every host: `current` names an
// installed release, the running service was started from it, `previous` names the release a rollback
// goes to, /readyz answers 200, and HAProxy has every server UP. No request through HAProxy fails.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FleetState,
  currentRelease,
  deploy,
  down,
  findHaproxy,
  hostLayout,
  previousRelease,
  rollback,
  runningRelease,
  serverStatuses,
  up,
} from "./fleet";
import { Load, formatReport } from "./load";

let dir: string;
let state: FleetState;
let bundle: string;

function readyz(url: string): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", () => resolve(0));
  });
}

/** Every host: current -> releases/<cur>, previous -> releases/<prev> (or none), serving <cur>. */
async function expectFleetOn(cur: string, prev: string | undefined): Promise<void> {
  const svc = state.service.name;
  for (const h of state.hosts) {
    expect(currentRelease(h, svc), `${h.name} current`).toBe(`releases/${cur}`);
    expect(
      fs.existsSync(path.join(hostLayout(h.root, svc).current, "server.js")),
      `${h.name}: current names an installed release`,
    ).toBe(true);
    expect(previousRelease(h, svc), `${h.name} previous`).toBe(prev === undefined ? undefined : `releases/${prev}`);
    expect(runningRelease(h, svc), `${h.name}: the release its service was started from`).toBe(`releases/${cur}`);
    expect(await readyz(`http://${h.address}:${state.service.port}/readyz`), `${h.name} /readyz`).toBe(200);
  }
  expect((await serverStatuses(state)).map((s) => s.status)).toEqual(state.hosts.map(() => "UP"));
}

function release(n: number): string {
  const file = path.join(dir, `release-${n}.js`);
  fs.writeFileSync(file, `${fs.readFileSync(bundle, "utf8")}\n// release ${n}\n`);
  return file;
}

beforeAll(async () => {
  findHaproxy();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-releases-"));
  bundle = path.join(dir, "server.js");
  const build = spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "build.mjs"), bundle], {
    encoding: "utf8",
  });
  expect(build.status, build.stderr).toBe(0);
});

afterAll(async () => {
  try {
    if (dir) await down(path.join(dir, "fleet"));
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe("releases on the local fleet", () => {
  it("boot, deploy, roll back, deploy again, roll back twice: current always names a running, installed release", async () => {
    const t0 = performance.now();
    state = await up({ dir: path.join(dir, "fleet"), bundle, instances: 2, workers: 1, logLevel: "warn" });
    const v1 = currentRelease(state.hosts[0]!, state.service.name).replace("releases/", "");
    const steps: string[] = [`boot ${Math.round(performance.now() - t0)} ms`];
    await expectFleetOn(v1, undefined);
    // the env file a host gets (host/files.ts renderEnvFile), tagged with release 1, then the simulated host's own lines
    for (const h of state.hosts)
      expect(fs.readFileSync(hostLayout(h.root, state.service.name).envFile, "utf8")).toMatch(
        new RegExp(`\nDD_VERSION=${v1}\n[\\s\\S]*\nHOST=${h.address.replaceAll(".", "\\.")}\n`),
      );

    const load = new Load({
      url: state.url,
      connections: { get: 4, post: 2, slow: 2 },
      maxDurationMs: 110_000,
      maxRequests: 200_000,
    }).start("deploy");
    const step = async <T extends { ok: boolean; durationMs: number; hosts: { output: string }[] }>(
      name: string,
      run: Promise<T>,
    ): Promise<T> => {
      const r = await run;
      expect(r.ok, r.hosts.map((h) => h.output).join("\n")).toBe(true);
      steps.push(`${name} ${r.durationMs} ms`);
      return r;
    };
    const v2 = (await step("deploy", deploy(state, { bundle: release(2) }))).version;
    await expectFleetOn(v2, v1);
    load.mark("roll back");
    await step("roll back", rollback(state));
    await expectFleetOn(v1, v2);
    load.mark("deploy again");
    const v3 = (await step("deploy again", deploy(state, { bundle: release(3) }))).version;
    await expectFleetOn(v3, v1);
    load.mark("roll back twice");
    await step("roll back", rollback(state));
    await expectFleetOn(v1, v3);
    await step("roll back", rollback(state));
    await expectFleetOn(v3, v1);
    const report = await load.stop();
    console.log(`release steps: ${steps.join(", ")}\n${formatReport(report)}`);
    expect(report.total.total.requests).toBeGreaterThan(0);
    expect(report.total.total.failed + report.total.total.non2xx, JSON.stringify(report.total.kinds)).toBe(0);
  });
});
