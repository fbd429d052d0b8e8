// Secret rotation on the local fleet under load: a new value put in the Parameter Store stand-in reaches every
// host through the HAProxy flavor's path (a new revision; each host on an older one, in turn, runs the rendered
// secrets script and is restarted by the rendered deploy script on its running release), with no request lost.
// The real service, real HAProxy, the rendered secrets and deploy scripts, on loopback.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretsRevisionTagKey } from "../components/fleet/rules";
import { FleetState, down, findHaproxy, healthLog, hostLayout, up, waitAllUp } from "./fleet";
import { readPid } from "./fleet/state";
import { ParameterStoreStandIn, bootSecrets, hostTags, localParameters, rotateSecrets } from "./fleet/secrets";
import { Load, formatReport, requestKinds } from "./load";

let dir: string;
let state: FleetState;
let store: ParameterStoreStandIn;

const keyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const keyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/** What a host holds: its root-only secret files' text and modes. */
function held(h: FleetState["hosts"][number]) {
  const l = hostLayout(h.root, state.service.name);
  const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);
  return {
    datadog: fs.readFileSync(l.datadogEnvFile, "utf8"),
    papertrail: fs.readFileSync(l.papertrailInclude, "utf8"),
    modes: [mode(l.secrets), mode(l.datadogEnvFile), mode(l.papertrailInclude)],
  };
}

beforeAll(async () => {
  findHaproxy(); // fails with the apt-get command when haproxy is missing
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-"));
  const bundle = path.join(dir, "server.js");
  const build = spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "build.mjs"), bundle], {
    encoding: "utf8",
  });
  expect(build.status, build.stderr).toBe(0);
  state = await up({ dir: path.join(dir, "fleet"), bundle, instances: 3, workers: 2, logLevel: "warn" });
  store = new ParameterStoreStandIn(path.join(dir, "ssm"));
  const names = localParameters(state);
  store.put(names["datadog-api-key"], keyA);
  store.put(names["papertrail-destination"], "logs1.papertrailapp.com:11111");
  bootSecrets(state, store);
});

afterAll(async () => {
  try {
    if (dir) await down(path.join(dir, "fleet"));
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe("secret rotation on the local fleet", () => {
  it("a new value in SSM reaches every host, one at a time, with zero failed and zero non-2xx requests", async () => {
    const names = localParameters(state);
    for (const h of state.hosts) expect(held(h).datadog).toBe(`DD_API_KEY=${keyA}\n`);
    const pids = state.hosts.map((h) => readPid(h.pidFile));

    const l = new Load({ url: state.url, maxDurationMs: 120_000, maxRequests: 300_000, slowMs: 600 }).start("before");
    await sleep(1500);
    l.mark("rotation");
    expect(store.put(names["datadog-api-key"], keyB)).toBe(2);
    const r = await rotateSecrets(state, store);
    l.mark("after");
    await sleep(1500);
    const report = await l.stop();
    console.log(`secret rotation\n${formatReport(report)}`);
    console.log(`rotation: ${r.durationMs} ms (${r.replaced.map((h) => `${h.host} ${h.durationMs} ms`).join(", ")})`);
    if (!r.ok || report.total.total.failed + report.total.total.non2xx > 0) console.log(healthLog(state));

    expect(r.ok, r.replaced.map((h) => h.output).join("\n")).toBe(true);
    expect(r.revision).toBe("datadog-api-key:2/papertrail-destination:1");
    // Every host, in order, each restarted (a new process) and tagged with the new revision.
    expect(r.replaced.map((h) => h.host)).toEqual(state.hosts.map((h) => h.name));
    state.hosts.forEach((h, i) => {
      expect(held(h)).toEqual({
        datadog: `DD_API_KEY=${keyB}\n`,
        papertrail: expect.stringContaining('target="logs1.papertrailapp.com" port="11111"'),
        modes: ["700", "600", "600"],
      });
      expect(hostTags(h)[secretsRevisionTagKey]).toBe(r.revision);
      expect(readPid(h.pidFile)).not.toBe(pids[i]);
    });
    for (const kind of requestKinds) {
      expect(report.total.kinds[kind].requests).toBeGreaterThan(0);
      expect(report.total.kinds[kind].failed, JSON.stringify(report.total.kinds[kind].errors)).toBe(0);
      expect(report.total.kinds[kind].non2xx, JSON.stringify(report.total.kinds[kind].statuses)).toBe(0);
    }
  });

  it("an unchanged revision replaces no host, as an unchanged launch template starts no refresh", async () => {
    await waitAllUp(state);
    const pids = state.hosts.map((h) => readPid(h.pidFile));
    const r = await rotateSecrets(state, store);
    expect(r).toMatchObject({ ok: true, replaced: [], unchanged: state.hosts.map((h) => h.name) });
    expect(state.hosts.map((h) => readPid(h.pidFile))).toEqual(pids);
  });

  it("a value the secrets script refuses stops at the first host, before its restart; the others keep serving the old one", async () => {
    await waitAllUp(state);
    const pids = state.hosts.map((h) => readPid(h.pidFile));
    store.put(localParameters(state)["papertrail-destination"], "no port here");
    const r = await rotateSecrets(state, store);
    expect(r.ok).toBe(false);
    expect(r.replaced.map((h) => [h.host, h.ok])).toEqual([[state.hosts[0]!.name, false]]);
    expect(r.replaced[0]!.output).toMatch(/papertrail-destination: expected host:port/);
    expect(state.hosts.map((h) => readPid(h.pidFile))).toEqual(pids);
    for (const h of state.hosts) {
      expect(held(h).papertrail).toContain('target="logs1.papertrailapp.com" port="11111"');
      expect(hostTags(h)[secretsRevisionTagKey]).toBe("datadog-api-key:2/papertrail-destination:1");
    }
    await waitAllUp(state);
  });
});
