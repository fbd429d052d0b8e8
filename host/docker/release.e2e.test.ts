// A release of the docker target, played with real HAProxy on loopback: the config host/docker/haproxy.ts renders
// (the HAProxy flavor's checks, drain and retries, server-template over DNS) with a stand-in for Docker's DNS, and
// stand-ins for the service containers that drain as the app does on SIGTERM (readiness fails at once, serving
// goes on for drainDelayMs, then the server stops accepting and finishes what is in flight). The steps and their
// spacing are the engine's and the Docker provider's in a `pulumi up` (infra/docker.test.ts checks the order):
// the new containers start and join the network's DNS name; each is created once Docker calls it healthy (its
// first /readyz 200, within Docker's 1 s start interval and the provider's 1 s poll); then, at the end of the
// update, every old container gets SIGTERM at once and leaves DNS when it exits. Load runs throughout; no request
// may fail. The container health check command of HAProxy (haproxyHealthTest) runs for real too.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { serviceDefaults } from "../../contract/service";
import { startDns } from "../../test/support/dns";
import { freePort } from "../../test/support/net";
import { tool } from "../../test/support/tools";
import { statColumns } from "../haproxy/config";
import {
  DOCKER_DNS,
  emptyServerState,
  haproxyHealthTest,
  haproxyImagePaths,
  renderDockerHaproxyConfig,
} from "./haproxy";

const dnsName = "fleet.sample-api.local.internal";
const oldHosts = ["127.0.1.41", "127.0.1.42"];
const newHosts = ["127.0.1.43", "127.0.1.44"];
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-release-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A service container's stand-in: /readyz 200 until SIGTERM, the answer names the host. */
function serviceStandIn(host: string, port: number, drainDelayMs: number) {
  let draining = false;
  const server = http.createServer((req, res) => {
    if (req.url === "/readyz") res.statusCode = draining ? 503 : 200;
    res.end(host);
  });
  server.keepAliveTimeout = serviceDefaults.keepAliveTimeoutMs;
  return {
    listen: () => new Promise<void>((r) => server.listen(port, host, r)),
    /** SIGTERM as the app takes it. */
    async stop() {
      draining = true;
      await sleep(drainDelayMs);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      });
    },
    kill: () => server.closeAllConnections(),
  };
}

it("moves the load from the old containers to the new ones with no failed request", async () => {
  const service = { ...serviceDefaults, port: await freePort([...oldHosts, ...newHosts]) };
  const [listen, health, stats] = [await freePort(), await freePort(), await freePort()];
  const dns = await startDns();
  const state = path.join(dir, "server-state");
  fs.writeFileSync(state, emptyServerState);
  // The rendered config, with Docker's fixed addresses and the image's paths moved to this test's own.
  const cfg = renderDockerHaproxyConfig({ service, dnsName, serverSlots: 4, listenPort: listen, healthPort: health })
    .replace(DOCKER_DNS, `127.0.0.1:${dns.port}`)
    .replace(`0.0.0.0:${listen}`, `127.0.0.1:${listen}`)
    .replace("bind 127.0.0.1:8404", `bind 127.0.0.1:${stats}`)
    .replace(haproxyImagePaths.serverState, state)
    .replace(`${haproxyImagePaths.stateDir}/admin.sock`, path.join(dir, "admin.sock"));
  const cfgFile = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(cfgFile, cfg);

  const olds = oldHosts.map((h) => serviceStandIn(h, service.port, service.drainDelayMs));
  const news = newHosts.map((h) => serviceStandIn(h, service.port, service.drainDelayMs));
  for (const s of olds) await s.listen();
  dns.records.set(dnsName, oldHosts);
  const haproxy = spawn(tool("haproxy"), ["-db", "-f", cfgFile], { stdio: "ignore" });
  const healthCheck = () =>
    spawnSync("sh", ["-c", haproxyHealthTest({ healthPort: health })[1]!], { timeout: 10_000 }).status;
  const adminSocket = path.join(dir, "admin.sock");
  // The addresses of the servers HAProxy has UP, from `show stat` on the admin socket (the CSV page leaves addr empty).
  const upServers = async (): Promise<string[]> => {
    const csv = await new Promise<string>((resolve) => {
      let body = "";
      const c = net.createConnection(adminSocket, () => c.write("show stat\n"));
      c.on("data", (d) => (body += d));
      c.on("end", () => resolve(body));
      c.on("error", () => resolve(""));
    });
    return csv
      .split("\n")
      .map((l) => l.split(","))
      .filter((f) => f[statColumns.pxname] === "app" && f[statColumns.status]?.startsWith("UP") && f[statColumns.addr])
      .map((f) => f[statColumns.addr]!.split(":")[0]!);
  };
  const until = async (what: () => Promise<boolean> | boolean, tries = 300) => {
    for (let i = 0; i < tries && haproxy.exitCode === null; i++) {
      if (await what()) return true;
      await sleep(100);
    }
    return false;
  };

  const served = new Map<string, number>();
  const failures: string[] = [];
  let loading = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const client = async () => {
    // Bounded in count and time, and stopped when the release is over. The count leaves room for a slow, loaded
    // machine (HAProxy's DNS and health checks take their time there): running out of requests mid-release
    // would starve the new containers and fail the test for no fault of the release.
    const deadline = Date.now() + 120_000;
    for (let n = 0; loading && n < 500_000 && Date.now() < deadline; n++) {
      await new Promise<void>((resolve) => {
        http
          .get({ host: "127.0.0.1", port: listen, path: "/api/status", agent }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => {
              if (res.statusCode === 200) served.set(body, (served.get(body) ?? 0) + 1);
              else failures.push(`${res.statusCode} ${body.slice(0, 80)}`);
              resolve();
            });
          })
          .on("error", (e) => {
            failures.push(e.message);
            resolve();
          });
      });
    }
  };
  try {
    expect(await until(async () => (await upServers()).length === 2), "release 1 UP in HAProxy").toBe(true);
    expect(healthCheck(), "HAProxy's container health check with a usable backend").toBe(0);
    const load = Promise.all([client(), client(), client(), client()]);

    // pulumi up, release 2: the new containers start and join the DNS name.
    for (const s of news) await s.listen();
    dns.records.set(dnsName, [...oldHosts, ...newHosts]);
    // Each is created once Docker calls it healthy: its first /readyz 200, plus Docker's start interval and the
    // provider's poll (1 s each, at their shortest together).
    await sleep(1000);
    // End of the update: every old container is stopped at once, and leaves DNS when it has exited.
    await Promise.all(olds.map((s) => s.stop()));
    dns.records.set(dnsName, newHosts);
    expect(await until(async () => (await upServers()).sort().join() === newHosts.join())).toBe(true);
    const before = newHosts.map((h) => served.get(h) ?? 0);
    expect(await until(() => newHosts.every((h, i) => (served.get(h) ?? 0) > before[i]! + 50))).toBe(true);
    loading = false;
    await load;

    expect(failures).toEqual([]);
    console.log(`release under load: ${[...served].map(([h, n]) => `${h} ${n}`).join(", ")}; failed 0`);
    for (const h of [...oldHosts, ...newHosts]) expect(served.get(h) ?? 0, h).toBeGreaterThan(0);
    expect(dns.queries.get(dnsName) ?? 0).toBeGreaterThan(2);

    await Promise.all(news.map((s) => s.stop()));
    expect(await until(() => healthCheck() === 1), "no usable backend: the health check fails").toBe(true);
  } finally {
    loading = false;
    agent.destroy();
    haproxy.kill("SIGTERM");
    for (const s of [...olds, ...news]) s.kill();
    await dns.close();
  }
}, 120_000);
