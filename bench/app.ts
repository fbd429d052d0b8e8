// npm run bench:app — the sample service's cheapest route (request log and metrics on, one worker)
// against a bare node:http hello world, same autocannon settings, interleaved A B A B in one run.
// Prints req/s and p99 per round, the medians and the ratio service/bare (target >= 0.60), and the
// same service with the request log off, to show what the log costs. Every server runs on the pinned Node.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { freePort, sleep } from "../app/test/harness";
import { nodeRuntime } from "../contract/runtime";
import { serviceNode } from "../test/support/runtime";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const CONNECTIONS = 50;

const bareServer = `
const http = require("node:http");
http.createServer((req, res) => {
  const body = '{"status":"ok"}';
  res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));
`;

async function waitUp(port: number, p: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (p.exitCode !== null) throw new Error(`server exited with ${p.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/status`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(25);
  }
  throw new Error("server did not come up");
}

/** CPU time (user + system, ms) the processes used so far, from /proc. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

// Throughput swings with whatever else the shared machine runs; CPU time per request barely does,
// so both are reported.
async function run(port: number, pids: number[]) {
  const cpuBefore = cpuMs(pids);
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/api/status`,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors ${r.errors}, non-2xx ${r.non2xx}`);
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    cpuUsPerReq: ((cpuMs(pids) - cpuBefore) * 1000) / r.requests.total,
  };
}

async function pidsOf(port: number, primary: number): Promise<number[]> {
  const status = (await fetch(`http://127.0.0.1:${port}/api/status`).then((r) => r.json())) as { pid?: number };
  return status.pid && status.pid !== primary ? [primary, status.pid] : [primary];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const root = path.resolve(__dirname, "..");
  const bundle = path.join(root, "dist/app/server.js");
  const [barePort, appPort, quietPort, deadAgentPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const devNull = openSync("/dev/null", "w");
  // Both on the pinned Node production runs (contract/runtime.ts), whatever runs this script: a fair ratio.
  const node = serviceNode();
  console.log(`bare node:http and the service on Node ${nodeRuntime.version} (${node})`);

  const bare = spawn(node, ["-e", bareServer], {
    env: { PORT: String(barePort) },
    stdio: ["ignore", devNull, "inherit"],
  });
  // Logging on (LOG_LEVEL=info, stdout to /dev/null), metrics on (aggregated, sent to a port nobody reads).
  const service = (port: number, logLevel: string) =>
    spawn(node, [bundle], {
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        WORKERS: "1",
        LOG_LEVEL: logLevel,
        DD_DOGSTATSD_PORT: String(deadAgentPort),
        DD_ENV: "bench",
        METRICS_INTERVAL_MS: "1000",
      },
      stdio: ["ignore", devNull, "inherit"],
    });
  const app = service(appPort, "info");
  // Same service without request lines: shows what the synchronous request log costs.
  const quiet = service(quietPort, "warn");
  try {
    await waitUp(barePort, bare);
    await waitUp(appPort, app);
    await waitUp(quietPort, quiet);
    // warm both up (JIT) before measuring
    await autocannon({ url: `http://127.0.0.1:${barePort}/api/status`, connections: CONNECTIONS, duration: 1 });
    await autocannon({ url: `http://127.0.0.1:${appPort}/api/status`, connections: CONNECTIONS, duration: 1 });
    await autocannon({ url: `http://127.0.0.1:${quietPort}/api/status`, connections: CONNECTIONS, duration: 1 });

    const pids = {
      bare: [bare.pid!],
      app: await pidsOf(appPort, app.pid!),
      nolog: await pidsOf(quietPort, quiet.pid!),
    };
    type Round = { rps: number; p99: number; cpuUsPerReq: number };
    const results = { bare: [] as Round[], app: [] as Round[], nolog: [] as Round[] };
    console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION_S} s per round, ${ROUNDS} rounds interleaved`);
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, port] of [
        ["bare", barePort],
        ["app", appPort],
        ["nolog", quietPort],
      ] as const) {
        const r = await run(port, pids[name]);
        results[name].push(r);
        console.log(
          `round ${i + 1} ${name.padEnd(5)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${String(r.p99).padStart(4)} ms  ${r.cpuUsPerReq.toFixed(1).padStart(6)} us CPU/req`,
        );
      }
    }
    const bareRps = median(results.bare.map((r) => r.rps));
    const appRps = median(results.app.map((r) => r.rps));
    console.log(
      `bare node:http      median ${bareRps.toFixed(0)} req/s  p99 ${median(results.bare.map((r) => r.p99))} ms`,
    );
    console.log(
      `service /api/status median ${appRps.toFixed(0)} req/s  p99 ${median(results.app.map((r) => r.p99))} ms`,
    );
    const quietRps = median(results.nolog.map((r) => r.rps));
    console.log(
      `service without request log (LOG_LEVEL=warn) median ${quietRps.toFixed(0)} req/s: the log costs ${((1 - appRps / quietRps) * 100).toFixed(0)}%`,
    );
    // The machine is shared: each round's ratio compares runs seconds apart; their median is the figure.
    const ratios = results.app.map((r, i) => r.rps / results.bare[i]!.rps);
    console.log(`ratio per round: ${ratios.map((r) => r.toFixed(2)).join(" ")}`);
    console.log(`ratio service/bare (median of rounds): ${median(ratios).toFixed(2)} (target >= 0.60)`);
    const cpu = (n: keyof typeof results) => median(results[n].map((r) => r.cpuUsPerReq));
    console.log(
      `CPU per request: bare ${cpu("bare").toFixed(1)} us, service ${cpu("app").toFixed(1)} us, without request log ${cpu("nolog").toFixed(1)} us`,
    );
    console.log(
      `CPU-efficiency ratio bare/service: ${(cpu("bare") / cpu("app")).toFixed(2)} (less sensitive to other load on the machine)`,
    );
  } finally {
    bare.kill("SIGKILL");
    for (const p of [app, quiet]) {
      p.kill("SIGTERM"); // graceful: the primary stops its worker
      if (p.exitCode === null) await new Promise((r) => p.once("exit", r));
    }
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
