// The deploy step, checked by shellcheck and run for real: a real supervisor (test/support/supervisor.ts)
// restarting a real node HTTP server from <root>/opt/<service>/current, on loopback.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/net";
import { buildSupervisor, isOurs } from "../../test/support/processes";
import { control } from "../../test/support/supervisor";
import { checkDeployScript, renderDeployScript, withDeployDefaults } from "./script";

function shellcheck(text: string): { ok: boolean; output: string } {
  const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: text, encoding: "utf8" });
  if (r.error) throw new Error("shellcheck is not installed: run `apt-get install -y shellcheck`");
  return { ok: r.status === 0, output: r.stdout };
}

describe("renderDeployScript", () => {
  it("is shellcheck-clean with defaults and with other settings", () => {
    for (const text of [renderDeployScript(), renderDeployScript({ service: { name: "billing" }, root: "/srv/hosts/a", restartCommand: "systemctl restart billing", keepReleases: 3 })]) {
      const r = shellcheck(text);
      expect(r.ok, r.output).toBe(true);
      expect(text).toMatch(/^set -euo pipefail$/m);
    }
    expect(renderDeployScript()).toMatch(/systemctl restart sample-api/);
  });

  it("is checked by a shellcheck that rejects a broken script", () => {
    const r = shellcheck(renderDeployScript().replace('mv -T "$incoming" "$target"', "mv -T $incoming $target"));
    expect(r.ok).toBe(false);
  });

  it("refuses bad settings with a message naming each field", () => {
    const problems = checkDeployScript(withDeployDefaults({ keepReleases: 1, root: "relative", readyUrl: "ftp://x", service: { port: 0 } }));
    expect(problems.map((p) => p.field)).toEqual(["service.port", "root", "readyUrl", "keepReleases"]);
    expect(() => renderDeployScript({ keepReleases: 1, root: "relative", readyUrl: "ftp://x" })).toThrow(/root: "relative"[\s\S]*readyUrl[\s\S]*keepReleases: 1/);
    expect(() => renderDeployScript({ service: { drainDelayMs: -1 } })).toThrow(/^invalid deploy script settings:\n {2}- service\.drainDelayMs: -1 must be >= 0$/);
    expect(() => renderDeployScript({ restartCommand: "systemctl restart x; rm -rf /" })).toThrow(/restartCommand/);
  });
});

// A release that says which version it is, and is ready at once.
const goodRelease = (v: string) => `require("http").createServer((q, s) => s.end(q.url === "/readyz" ? "ready" : "${v}"))
  .listen(Number(process.env.PORT), process.env.HOST);
process.on("SIGTERM", () => process.exit(0));
`;

describe("deploy script on a host", () => {
  let dir: string;
  let root: string;
  let port: number;
  let supervisorPid = 0;
  let env: Record<string, string>;
  let script: string;

  const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  const release = (name: string, text: string) => {
    const f = path.join(dir, `${name}.js`);
    fs.writeFileSync(f, text);
    return f;
  };
  const run = (args: string[]) => spawnSync("bash", [script, ...args], { env, encoding: "utf8", timeout: 60_000 });
  const current = () => fs.readlinkSync(path.join(root, "opt/sample-api/current"));
  const get = () =>
    new Promise<string>((resolve, reject) =>
      http.get(`http://127.0.0.1:${port}/`, { agent: false }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      }).on("error", reject),
    );

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-step-"));
    root = path.join(dir, "host");
    port = await freePort(["127.0.0.1"]);
    const v1 = path.join(root, "opt/sample-api/releases/v1");
    fs.mkdirSync(v1, { recursive: true });
    fs.writeFileSync(path.join(v1, "server.js"), goodRelease("v1"));
    fs.symlinkSync("releases/v1", path.join(root, "opt/sample-api/current"));
    fs.writeFileSync(path.join(dir, "app.env"), `PORT=${port}\nHOST=127.0.0.1\n`);
    const supervisor = buildSupervisor(path.join(dir, "supervisor.js"));
    const cfg = { root, service: "sample-api", envFile: path.join(dir, "app.env"), logFile: path.join(dir, "app.log"), socket: path.join(dir, "s.sock"), pidFile: path.join(dir, "app.pid"), stopTimeoutSec: 5, restartSec: 1 };
    fs.writeFileSync(path.join(dir, "supervisor.json"), JSON.stringify(cfg));
    const p = spawn(process.execPath, [supervisor, "run", path.join(dir, "supervisor.json")], { stdio: "ignore" });
    supervisorPid = p.pid!;
    script = path.join(dir, "deploy.sh");
    fs.writeFileSync(script, renderDeployScript({ service: { port }, keepReleases: 2 }), { mode: 0o755 });
    env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DEPLOY_ROOT: root,
      DEPLOY_RESTART_CMD: `${process.execPath} ${supervisor} ctl ${cfg.socket} restart`,
      DEPLOY_READY_TIMEOUT_SEC: "3",
    };
    for (let n = 0; n < 100 && !(await get().catch(() => "")); n++) await new Promise((r) => setTimeout(r, 50));
    expect(await get()).toBe("v1");
  });

  afterEach(async () => {
    try {
      if (supervisorPid && isOurs(supervisorPid, path.join(dir, "supervisor.json"))) {
        await control(path.join(dir, "s.sock"), "crash").catch(() => "");
        process.kill(supervisorPid, "SIGKILL");
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("installs, verifies, switches, restarts and waits until ready", async () => {
    const v2 = release("v2", goodRelease("v2"));
    const r = run(["--source", `file://${v2}`, "--sha256", sha(v2), "--version", "v2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(current()).toBe("releases/v2");
    expect(fs.readFileSync(path.join(root, "opt/sample-api/releases/v2/server.js"), "utf8")).toBe(goodRelease("v2"));
    expect(await get()).toBe("v2");
  });

  it("refuses a bundle whose checksum differs and changes nothing", async () => {
    const v2 = release("v2", goodRelease("v2"));
    const r = run(["--source", v2, "--sha256", "0".repeat(64), "--version", "v2"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/checksum mismatch/);
    expect(current()).toBe("releases/v1");
    expect(fs.existsSync(path.join(root, "opt/sample-api/releases/v2"))).toBe(false);
    expect(await get()).toBe("v1");
  });

  it("rolls back to the previous release when the new one never becomes ready", async () => {
    const bad = release("bad", "process.exit(1);\n");
    const r = run(["--source", `file://${bad}`, "--sha256", sha(bad), "--version", "bad"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not ready after 3s/);
    expect(r.stderr).toMatch(/rolled back to releases\/v1/);
    expect(current()).toBe("releases/v1");
    expect(await get()).toBe("v1");
  });

  it("keeps only the newest releases, never the current one or the one before", async () => {
    for (const v of ["v2", "v3", "v4"]) {
      const f = release(v, goodRelease(v));
      const r = run(["--source", f, "--sha256", sha(f), "--version", v]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(fs.readdirSync(path.join(root, "opt/sample-api/releases")).sort()).toEqual(["v3", "v4"]);
    expect(await get()).toBe("v4");
  });

  it("answers bad usage with exit 2 and one message", () => {
    const r = run(["--source", "/x", "--sha256", "abc", "--version", "v2"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--sha256 must be 64 lowercase hex digits/);
    expect(run(["--version", "../etc", "--sha256", "0".repeat(64), "--source", "/x"]).stderr).toMatch(/--version must be/);
  });
});
