// npm run bench:deploy: the same load against a naive restart (kill and start) and a graceful rolling
// deploy, side by side on one local fleet. Prints failed requests and p99 for each, and the graceful
// deploy's duration against its floor: hosts x (drain delay + start to ready), start to ready
// measured here, under the same load. Target: zero failures and at most 1.5x the floor.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { FleetError, FleetState, deploy, down, up, waitAllUp } from "../local/fleet";
import { freePort } from "../test/support/net";
import { serviceNode } from "../test/support/runtime";
import { Load, LoadReport, PhaseStats } from "../local/load";
import { setTimeout as sleep } from "node:timers/promises";

const bundle = path.resolve(__dirname, "..", "dist", "app", "server.js");

function readyOnce(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** Spawn to /readyz 200 of one extra instance of the bundle, like a host's new release. */
async function startToReadyMs(state: FleetState): Promise<number> {
  const address = `127.0.1.${state.hosts.length + 1}`;
  const port = await freePort([address]);
  const t0 = performance.now();
  // The pinned Node, as the fleet's hosts run it.
  const p = spawn(serviceNode(), [bundle], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: address,
      WORKERS: String(state.service.workers),
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  try {
    while (!(await readyOnce(`http://${address}:${port}/readyz`))) {
      if (performance.now() - t0 > 60_000) throw new FleetError("the service did not become ready within 60 s");
      await sleep(20);
    }
    return performance.now() - t0;
  } finally {
    p.kill("SIGKILL");
  }
}

async function run(state: FleetState, naive: boolean, release: string) {
  await waitAllUp(state);
  const load = new Load({ url: state.url, maxDurationMs: 120_000, maxRequests: 300_000 }).start("before");
  await sleep(2000);
  load.mark("deploy");
  const r = await deploy(state, { bundle: release, naive });
  load.mark("after");
  await sleep(2000);
  const report: LoadReport = await load.stop();
  if (!r.ok)
    throw new FleetError(
      `the ${naive ? "naive" : "graceful"} deploy failed:\n${r.hosts.map((h) => h.output).join("\n")}`,
    );
  return { durationMs: r.durationMs, during: report.phases[1]!, total: report.total };
}

function release(dir: string, n: number): string {
  const file = path.join(dir, `release-${n}.js`);
  fs.writeFileSync(file, `${fs.readFileSync(bundle, "utf8")}\n// release ${n}\n`);
  return file;
}

async function main(): Promise<void> {
  if (!fs.existsSync(bundle)) throw new FleetError(`${bundle} does not exist: run \`npm run build\` first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-deploy-"));
  const fleetDir = path.join(dir, "fleet");
  try {
    const state = await up({ dir: fleetDir, bundle, instances: 3, workers: 2, logLevel: "warn" });
    console.log(
      `fleet: ${state.hosts.length} hosts x ${state.service.workers} workers, drain delay ${state.service.drainDelayMs} ms`,
    );

    // Start to ready, measured under the same load (median of 3).
    const load = new Load({ url: state.url, maxDurationMs: 60_000, maxRequests: 200_000 }).start();
    await sleep(1000);
    const samples: number[] = [];
    for (let n = 0; n < 3; n++) samples.push(await startToReadyMs(state));
    await load.stop();
    const startToReady = samples.sort((a, b) => a - b)[1]!;

    const naive = await run(state, true, release(dir, 1));
    const graceful = await run(state, false, release(dir, 2));
    const floor = state.hosts.length * (state.service.drainDelayMs + startToReady);

    const row = (name: string, r: { durationMs: number; during: PhaseStats; total: PhaseStats }) =>
      [
        name,
        r.total.total.requests,
        r.during.requestsPerSec,
        r.total.total.failed + r.total.total.non2xx,
        r.total.kinds.post.failed + r.total.kinds.post.non2xx,
        r.during.total.latencyMs.p99,
        r.durationMs,
      ]
        .map(String)
        .map((c, i) => (i === 0 ? c.padEnd(9) : c.padStart(10)))
        .join(" ");
    console.log(
      [
        "mode".padEnd(9),
        ...["requests", "req/s", "failed", "of which POST", "p99 ms", "deploy ms"].map((h) => h.padStart(10)),
      ].join(" "),
    );
    console.log(row("naive", naive));
    console.log(row("graceful", graceful));
    console.log(
      `graceful deploy: ${graceful.durationMs} ms; floor ${Math.round(floor)} ms = ${state.hosts.length} hosts x (drain ${state.service.drainDelayMs} ms + start to ready ${Math.round(startToReady)} ms); ratio ${(graceful.durationMs / floor).toFixed(2)}x (target <= 1.5x)`,
    );
    const gracefulFailed = graceful.total.total.failed + graceful.total.total.non2xx;
    console.log(
      gracefulFailed === 0 ? "graceful: zero failed requests" : `graceful: ${gracefulFailed} FAILED requests`,
    );
  } finally {
    await down(fleetDir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e instanceof FleetError ? `error: ${e.message}` : e);
  process.exit(1);
});
