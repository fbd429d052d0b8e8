import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/net";
import { tool } from "../../test/support/tools";
import { renderDeployScript } from "../deploy/script";
import {
  HaproxyConfigOptions,
  checkDetectionMs,
  checkHaproxyConfig,
  deriveHealthCheck,
  renderHaproxyConfig,
  statColumns,
  withHaproxyDefaults,
} from "./config";

let dir: string;
let haproxy: string;

beforeAll(() => {
  haproxy = tool("haproxy"); // throws with `apt-get install -y haproxy` when missing
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-render-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `haproxy -c` on a rendered text; the state file path points at a real (valid) state file. */
function check(text: string): { ok: boolean; output: string } {
  const cfg = path.join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(cfg, text);
  const r = spawnSync(haproxy, ["-c", "-f", cfg], { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const fixed: HaproxyConfigOptions = {
  servers: [
    { name: "h1", address: "127.0.1.1", port: 3000 },
    { name: "h2", address: "127.0.1.2", port: 3000 },
  ],
};

function opts(o: HaproxyConfigOptions): HaproxyConfigOptions {
  fs.writeFileSync(path.join(dir, "server-state"), "1\n# be_id be_name srv_id srv_name\n");
  return { serverStateFile: path.join(dir, "server-state"), adminSocket: path.join(dir, "admin.sock"), ...o };
}

describe("renderHaproxyConfig", () => {
  it("renders a fixed server list that haproxy -c accepts without warnings", () => {
    const text = renderHaproxyConfig(opts(fixed));
    const r = check(text);
    expect(r.ok, r.output).toBe(true);
    expect(r.output).not.toMatch(/WARNING|ALERT/);
    expect(text).toMatch(/^\s+server h1 127\.0\.1\.1:3000$/m);
    expect(text).toMatch(/http-check send meth GET uri \/readyz/);
    expect(text).toMatch(/retry-on conn-failure empty-response response-timeout 503/);
    expect(text).toMatch(/http-request disable-l7-retry unless \{ method GET HEAD OPTIONS PUT DELETE \}/);
    expect(text).toMatch(/stats socket \S+ mode 660 level admin expose-fd listeners/);
    expect(text).toMatch(/load-server-state-from-file global/);
    expect(text).toMatch(/^\s+master-worker$/m);
    expect(text).toMatch(/log \/dev\/log/);
  });

  it("renders DNS discovery with server-template and resolvers that haproxy -c accepts", () => {
    const text = renderHaproxyConfig(
      opts({
        log: "stdout",
        serverTemplate: {
          prefix: "app",
          count: 10,
          dnsName: "app.service.internal",
          port: 3000,
          nameserver: "169.254.169.253:53",
        },
      }),
    );
    const r = check(text);
    expect(r.ok, r.output).toBe(true);
    expect(text).toMatch(/server-template app 10 app\.service\.internal:3000 resolvers vpc/);
    expect(text).toMatch(/nameserver dns1 169\.254\.169\.253:53/);
    expect(text).toMatch(/log stdout format raw/);
  });

  it("drops privileges when user and group are given (haproxy -c resolves them)", () => {
    const r = check(renderHaproxyConfig(opts({ ...fixed, user: "haproxy", group: "haproxy" })));
    expect(r.ok, r.output).toBe(true);
    const bad = check(renderHaproxyConfig(opts({ ...fixed, user: "nosuchuser", group: "haproxy" })));
    expect(bad.ok).toBe(false);
  });

  it("is checked by a validator that rejects a broken rendering", () => {
    const text = renderHaproxyConfig(opts(fixed)).replace("retry-on conn-failure", "retry-on conn-failures");
    const r = check(text);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/retry-on/);
  });

  it("derives check timing that lets a draining server leave before it stops serving", () => {
    for (const drain of [500, 1500, 3000, 10_000, 30_000, 120_000]) {
      const c = deriveHealthCheck(drain);
      expect(checkDetectionMs(c)).toBeLessThan(drain);
      expect(() =>
        renderHaproxyConfig(opts({ ...fixed, service: { drainDelayMs: drain, shutdownTimeoutMs: drain + 30_000 } })),
      ).not.toThrow();
    }
    const i = withHaproxyDefaults({ ...fixed, service: { drainDelayMs: 10_000 } });
    expect(i.check).toEqual({ intervalMs: 2000, fall: 2, rise: 2, timeoutMs: 1000 });
  });

  it("refuses a drain delay shorter than HAProxy's detection time", () => {
    expect(() => renderHaproxyConfig({ ...fixed, service: { drainDelayMs: 300 } })).toThrow(
      /drainDelayMs: 300 ms is too short.*400 ms/,
    );
    expect(() =>
      renderHaproxyConfig({ ...fixed, service: { drainDelayMs: 1500 }, check: { intervalMs: 1000, fall: 3 } }),
    ).toThrow(/fall\*\(inter\+timeout\) = 3\*\(1000\+150\) = 3450 ms/);
  });

  it("refuses idle timeouts at or above the service's keep-alive timeout", () => {
    expect(() => renderHaproxyConfig({ ...fixed, timeouts: { httpKeepAliveMs: 65_000 } })).toThrow(
      /httpKeepAliveMs: 65000 must be below service.keepAliveTimeoutMs \(65000\)/,
    );
    expect(() => renderHaproxyConfig({ ...fixed, poolPurgeDelayMs: 70_000 })).toThrow(/poolPurgeDelayMs/);
    const short = withHaproxyDefaults({ ...fixed, service: { keepAliveTimeoutMs: 5000, headersTimeoutMs: 6000 } });
    expect(short.timeouts.httpKeepAliveMs).toBeLessThan(5000);
    expect(short.poolPurgeDelayMs).toBeLessThan(5000);
  });

  it("reports each problem under its field, the service settings' under service.", () => {
    const fields = (o: HaproxyConfigOptions) => checkHaproxyConfig(withHaproxyDefaults(o)).map((p) => p.field);
    expect(fields({ ...fixed, service: { port: 0 } })).toEqual(["service.port"]);
    expect(fields({})).toEqual(["servers"]);
    expect(fields({ ...fixed, check: { intervalMs: 0 }, timeouts: { queueMs: -1 }, maxconn: 0 })).toEqual([
      "check.intervalMs",
      "timeouts.queueMs",
      "maxconn",
    ]);
    expect(fields({ ...fixed, service: { drainDelayMs: 300 } })).toEqual(["service.drainDelayMs"]);
    for (const p of checkHaproxyConfig(
      withHaproxyDefaults({ servers: [], user: "x y", timeouts: { httpKeepAliveMs: 70_000 } }),
    ))
      expect(p.message.startsWith(p.field.split(".").at(-1)!)).toBe(false);
  });

  it("refuses bad inputs with one message naming each field", () => {
    const bad = (o: HaproxyConfigOptions, re: RegExp) => expect(() => renderHaproxyConfig(o)).toThrow(re);
    bad({}, /exactly one of servers .* and serverTemplate/);
    bad(
      { ...fixed, serverTemplate: { prefix: "a", count: 2, dnsName: "a.b", port: 1, nameserver: "10.0.0.2:53" } },
      /exactly one/,
    );
    bad({ servers: [] }, /servers: the list is empty/);
    bad(
      {
        servers: [
          { name: "h1", address: "127.0.1.1", port: 1 },
          { name: "h1", address: "127.0.1.2", port: 1 },
        ],
      },
      /"h1" is used twice/,
    );
    bad(
      { servers: [{ name: "h 1", address: "127.0.1.1", port: 70000 }] },
      /servers\[0\]\.name[\s\S]*servers\[0\]\.port: 70000/,
    );
    bad({ ...fixed, stats: { address: "0.0.0.0", port: 8404 } }, /stats.address: "0.0.0.0" must be a loopback address/);
    bad({ ...fixed, adminSocket: "run/admin.sock" }, /adminSocket: "run\/admin.sock" must be an absolute path/);
    bad({ ...fixed, hardStopAfterMs: 3_600_000 }, /hardStopAfterMs/);
    bad({ ...fixed, user: "haproxy" }, /group: is missing: give both user and group, or neither/);
    bad(
      { serverTemplate: { prefix: "app", count: 0, dnsName: "nodots", port: 3000, nameserver: "dns:53" } },
      /count: 0[\s\S]*dnsName[\s\S]*nameserver/,
    );
  });
});

// The load balancer's health check of a node (HAProxy 2.6 manual: `monitor-uri` answers 200 itself,
// `monitor fail` turns it into 503 when its condition holds; `nbsrv(<backend>)` is the number of usable
// servers of that backend: https://docs.haproxy.org/2.6/configuration.html#4-monitor%20fail,
// #7.3.2-nbsrv). A node that can reach no service host must fail the check, not pass it as a TCP check does.
describe("health frontend", () => {
  it("answers the health URI itself and fails it when the backend has no usable server; haproxy -c accepts it", () => {
    const text = renderHaproxyConfig(
      opts({ ...fixed, health: { address: "0.0.0.0", port: 8405, uri: "/haproxy-health" } }),
    );
    const r = check(text);
    expect(r.ok, r.output).toBe(true);
    expect(r.output).not.toMatch(/WARNING|ALERT/);
    expect(text).toMatch(/frontend health\n\s+bind 0\.0\.0\.0:8405\n/);
    expect(text).toMatch(/^\s+monitor-uri \/haproxy-health$/m);
    expect(text).toMatch(/^\s+monitor fail if \{ nbsrv\(app\) lt 1 \}$/m);
    expect(renderHaproxyConfig(opts(fixed))).not.toContain("frontend health");
  });

  it("refuses a health frontend on the traffic port or with a bad URI", () => {
    const bad = (health: { address: string; port: number; uri: string }, re: RegExp) =>
      expect(() => renderHaproxyConfig({ ...fixed, health })).toThrow(re);
    bad({ address: "0.0.0.0", port: 8080, uri: "/h" }, /health.port: 8080 is the frontend's port/);
    bad({ address: "0.0.0.0", port: 8405, uri: "h x" }, /health.uri/);
    bad({ address: "nowhere", port: 8405, uri: "/h" }, /health.address/);
  });

  it("real HAProxy on loopback: 200 while one server is UP, 503 once every server is DOWN, 200 again when one is back", async () => {
    const ports = {
      frontend: await freePort(),
      stats: await freePort(),
      health: await freePort(),
      a: await freePort(),
      b: await freePort(),
    };
    const serve = (port: number) =>
      new Promise<http.Server>((resolve) => {
        const s = http.createServer((_req, res) => res.end("ready\n"));
        s.listen(port, "127.0.0.1", () => resolve(s));
      });
    const close = (s: http.Server) =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      });
    const o = opts({
      servers: [
        { name: "a", address: "127.0.0.1", port: ports.a },
        { name: "b", address: "127.0.0.1", port: ports.b },
      ],
      log: "stdout",
      frontend: { address: "127.0.0.1", port: ports.frontend },
      stats: { address: "127.0.0.1", port: ports.stats },
      health: { address: "127.0.0.1", port: ports.health, uri: "/haproxy-health" },
      check: { intervalMs: 100, fall: 1, rise: 1, timeoutMs: 100 },
    });
    const cfg = path.join(dir, "health.cfg");
    fs.writeFileSync(cfg, renderHaproxyConfig(o));
    let a = await serve(ports.a);
    let b: http.Server | undefined = await serve(ports.b);
    const proc = spawn(haproxy, ["-db", "-f", cfg], { stdio: "ignore" });
    const status = (p = "/haproxy-health") =>
      new Promise<number>((resolve) => {
        const req = http.get({ host: "127.0.0.1", port: ports.health, path: p, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", () => resolve(0));
      });
    const until = async (want: number) => {
      let last = 0;
      for (let i = 0; i < 100 && proc.exitCode === null; i++) {
        last = await status();
        if (last === want) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      return last;
    };
    try {
      expect(await until(200)).toBe(200);
      expect(await status("/anything-else")).toBe(404);
      await close(b);
      b = undefined;
      // One server left UP: still healthy.
      await new Promise((r) => setTimeout(r, 400));
      expect(await status()).toBe(200);
      await close(a);
      expect(await until(503)).toBe(503);
      a = await serve(ports.a);
      expect(await until(200)).toBe(200);
    } finally {
      proc.kill("SIGTERM");
      await close(a);
      if (b) await close(b);
    }
  });
});

describe("statColumns", () => {
  it("names the show stat columns as HAProxy's own header does; the deploy step reads them by these numbers", async () => {
    const [frontend, stats] = [await freePort(), await freePort()];
    const o = opts({
      ...fixed,
      log: "stdout",
      frontend: { address: "127.0.0.1", port: frontend },
      stats: { address: "127.0.0.1", port: stats },
    });
    const cfg = path.join(dir, "stat-columns.cfg");
    fs.writeFileSync(cfg, renderHaproxyConfig(o));
    const proc = spawn(haproxy, ["-db", "-f", cfg], { stdio: "ignore" });
    try {
      const csv = await showStat(o.adminSocket!, () => proc.exitCode !== null);
      const [header, ...rows] = csv
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^# /, "").split(","));
      for (const [name, column] of Object.entries(statColumns)) expect(header![column], name).toBe(name);
      const h1 = rows.find((f) => f[statColumns.pxname] === "app" && f[statColumns.svname] === "h1");
      expect(h1?.[statColumns.addr]).toBe("127.0.1.1:3000");
      expect(h1?.[statColumns.status]).toMatch(/^(UP|DOWN)/);
    } finally {
      proc.kill("SIGTERM");
    }
    const script = renderDeployScript();
    expect(script).toContain(`f[${statColumns.pxname}] === backend && f[${statColumns.svname}] === name`);
    expect(script).toContain(`row[${statColumns.status}]`);
  });
});

/** `show stat` on the admin socket, asked until HAProxy answers (it is starting). */
async function showStat(socket: string, exited: () => boolean): Promise<string> {
  for (let i = 0; i < 50 && !exited(); i++) {
    const answer = await new Promise<string>((resolve) => {
      let out = "";
      const s = net.connect(socket, () => s.write("show stat\n"));
      s.on("data", (d) => (out += d));
      s.on("error", () => resolve(""));
      s.on("close", () => resolve(out));
    });
    if (answer.startsWith("# pxname")) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer to show stat on ${socket}`);
}

/**
 * Runs the rendered config on loopback (frontend, stats and one server: a node server answering 200),
 * sends `paths` in order and returns the answers and what HAProxy logged to stdout.
 */
async function serve(
  o: HaproxyConfigOptions,
  paths: string[],
): Promise<{ answers: http.IncomingMessage[]; log: string }> {
  const app = http.createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const appPort = (app.address() as { port: number }).port;
  const [front, stats] = [await freePort(), await freePort()];
  const cfg = path.join(dir, `run-${front}.cfg`);
  fs.writeFileSync(
    cfg,
    renderHaproxyConfig(
      opts({
        ...o,
        log: "stdout",
        frontend: { address: "127.0.0.1", port: front },
        stats: { address: "127.0.0.1", port: stats },
        servers: [{ name: "a1", address: "127.0.0.1", port: appPort }],
      }),
    ),
  );
  const proc = spawn(haproxy, ["-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  const get = (p: string) =>
    new Promise<http.IncomingMessage>((res, rej) =>
      http
        .get({ host: "127.0.0.1", port: front, path: p, agent: false }, (r) => (r.resume(), r.on("end", () => res(r))))
        .on("error", rej),
    );
  try {
    for (let i = 0; ; i++) {
      try {
        await get("/healthz-wait");
        break;
      } catch (e) {
        if (i > 50 || proc.exitCode !== null)
          throw new Error(`haproxy did not start: ${String(e)}\n${log}`, { cause: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const answers: http.IncomingMessage[] = [];
    for (const p of paths) answers.push(await get(p));
    for (let i = 0; i < 50 && !paths.every((p) => log.includes(`${p.split("?")[0]}`)); i++)
      await new Promise((r) => setTimeout(r, 100));
    return { answers, log };
  } finally {
    proc.kill("SIGTERM");
    if (proc.exitCode === null) await new Promise((r) => proc.once("exit", r));
    await new Promise((r) => app.close(r));
  }
}

describe("HAProxy frontend, run on loopback", () => {
  it("logs the path and the query's keys, never its values; logFullUrl logs the whole URL", async () => {
    const quiet = await serve({ ...fixed }, ["/api/status?token=secret&x=1", "/plain", "/empty?"]);
    const line = quiet.log.split("\n").find((l) => l.includes("/api/status"));
    console.log(`request log line: ${line}`);
    expect(line).toContain('"GET /api/status?token&x HTTP/1.1"');
    expect(quiet.log).not.toContain("secret");
    expect(quiet.log).toContain('"GET /plain HTTP/1.1"');
    expect(quiet.log).toContain('"GET /empty? HTTP/1.1"');
    // the rest of option httplog's line is kept: status and the server that answered
    expect(line).toMatch(/ http app\/a1 .* 200 /);

    const full = await serve({ ...fixed, logFullUrl: true }, ["/api/status?token=secret&x=1"]);
    expect(full.log).toContain('"GET /api/status?token=secret&x=1 HTTP/1.1"');
  });

  it("answers with nosniff, and with HSTS when clients come over HTTPS (TLS ended in front)", async () => {
    const plain = await serve({ ...fixed }, ["/a"]);
    expect(plain.answers[0]!.headers["x-content-type-options"]).toBe("nosniff");
    expect(plain.answers[0]!.headers["strict-transport-security"]).toBeUndefined();
    const tls = await serve({ ...fixed, https: true }, ["/a"]);
    expect(tls.answers[0]!.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(tls.answers[0]!.headers["x-content-type-options"]).toBe("nosniff");
  });
});
