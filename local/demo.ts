// npm run demo: a local fleet behind HAProxy, load, a rolling deploy during the load, a report, down.
// Installs HAProxy itself when it is missing and this is root on a machine with apt-get.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { defaultBundle, defaultDir } from "./cli";
import { FleetError, deploy, down, findHaproxy, up } from "./fleet";
import { Load, formatReport } from "./load";
import { setTimeout as sleep } from "node:timers/promises";

function ensureHaproxy(): void {
  try {
    findHaproxy();
    return;
  } catch (e) {
    const canInstall = process.getuid?.() === 0 && fs.existsSync("/usr/bin/apt-get");
    if (!canInstall) throw e;
  }
  console.log("installing haproxy: apt-get install -y haproxy");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "haproxy"],
  ]) {
    const r = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (r.status !== 0)
      throw new FleetError(`\`apt-get ${args.join(" ")}\` failed: install haproxy yourself and run the demo again`);
  }
  findHaproxy();
}

async function main(): Promise<void> {
  ensureHaproxy();
  console.log("starting 3 hosts x 2 workers behind HAProxy ...");
  const state = await up({ dir: defaultDir, bundle: defaultBundle, instances: 3, workers: 2, logLevel: "warn" });
  try {
    console.log(`fleet ready at ${state.url} (HAProxy stats: ${state.statsUrl})`);
    const load = new Load({ url: state.url, maxDurationMs: 90_000, maxRequests: 300_000 }).start("before");
    console.log("load: GET /api/status, POST /api/session, GET /api/slow?ms=600 over keep-alive ...");
    await sleep(5000);
    load.mark("during deploy");
    console.log("rolling deploy, one host at a time:");
    const r = await deploy(state, { bundle: defaultBundle, onLog: (l) => console.log(`  ${l}`) });
    load.mark("after");
    await sleep(5000);
    const report = await load.stop();
    console.log(`\n${formatReport(report)}\n`);
    const t = report.total.total;
    console.log(
      `deploy ${r.ok ? "succeeded" : "FAILED"}: ${r.version} on ${r.hosts.length} hosts in ${r.durationMs} ms (${r.hosts.map((h) => `${h.host} ${h.durationMs} ms`).join(", ")})`,
    );
    console.log(`requests: ${t.requests}, failed: ${t.failed}, non-2xx: ${t.non2xx}`);
    if (!r.ok || t.failed + t.non2xx > 0) process.exitCode = 1;
  } finally {
    console.log("stopping the fleet ...");
    await down(defaultDir);
  }
}

main().catch((e: Error) => {
  console.error(e instanceof FleetError ? `error: ${e.message}` : e);
  process.exit(1);
});
