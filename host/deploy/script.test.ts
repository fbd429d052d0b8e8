// The deploy step, checked by shellcheck and run for real: a real supervisor (test/support/supervisor.ts)
// restarting a real node HTTP server from the host layout's `current` under a temporary root, on loopback.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostPaths } from "../../contract/layout";
import { freePort } from "../../test/support/net";
import { buildSupervisor, isOurs } from "../../test/support/processes";
import { control } from "../../test/support/supervisor";
import { retryPolicy } from "../retry";
import { checkDeployScript, renderDeployScript, withDeployDefaults } from "./script";
import { serviceNode } from "../../test/support/runtime";

function shellcheck(text: string): { ok: boolean; output: string } {
  const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: text, encoding: "utf8" });
  if (r.error) throw new Error("shellcheck is not installed: run `apt-get install -y shellcheck`");
  return { ok: r.status === 0, output: r.stdout };
}

describe("renderDeployScript", () => {
  it("is shellcheck-clean with defaults and with other settings", () => {
    for (const text of [
      renderDeployScript(),
      renderDeployScript({
        service: { name: "billing" },
        root: "/srv/hosts/a",
        restartCommand: "systemctl restart billing",
        keepReleases: 3,
      }),
    ]) {
      const r = shellcheck(text);
      expect(r.ok, r.output).toBe(true);
      expect(text).toMatch(/^set -euo pipefail$/m);
    }
    expect(renderDeployScript()).toMatch(/systemctl restart sample-api/);
    // links are switched by renaming a new link over the old one, never by removing it first
    expect(renderDeployScript()).toContain('ln -sfn "releases/$2" "$1.new"\n  mv -T "$1.new" "$1"');
  });

  it("takes its paths from contract/layout.ts and its region as a rendered default", () => {
    const p = hostPaths("billing");
    const text = renderDeployScript({ service: { name: "billing" }, region: "eu-west-1" });
    for (const path of [p.releases, p.current, p.previous]) expect(text).toContain(`"$root${path}"`);
    expect(text).toContain('region="${DEPLOY_REGION:-eu-west-1}"');
    expect(() => renderDeployScript({ region: "eu-west-1; reboot" })).toThrow(/region: "eu-west-1; reboot"/);
  });

  it("is checked by a shellcheck that rejects a broken script", () => {
    const r = shellcheck(renderDeployScript().replace('mv -T "$incoming" "$target"', "mv -T $incoming $target"));
    expect(r.ok).toBe(false);
  });

  it("refuses bad settings with a message naming each field", () => {
    const problems = checkDeployScript(
      withDeployDefaults({ keepReleases: 1, root: "relative", readyUrl: "ftp://x", service: { port: 0 } }),
    );
    expect(problems.map((p) => p.field)).toEqual(["service.port", "root", "readyUrl", "keepReleases"]);
    expect(() => renderDeployScript({ keepReleases: 1, root: "relative", readyUrl: "ftp://x" })).toThrow(
      /root: "relative"[\s\S]*readyUrl[\s\S]*keepReleases: 1/,
    );
    expect(() => renderDeployScript({ service: { drainDelayMs: -1 } })).toThrow(
      /^invalid deploy script settings:\n {2}- service\.drainDelayMs: -1 must be >= 0$/,
    );
    expect(() => renderDeployScript({ restartCommand: "systemctl restart x; rm -rf /" })).toThrow(/restartCommand/);
  });
});

// A release that says which version it is, and is ready at once.
const goodRelease = (
  v: string,
) => `require("http").createServer((q, s) => s.end(q.url === "/readyz" ? "ready" : "${v}"))
  .listen(Number(process.env.PORT), process.env.HOST);
process.on("SIGTERM", () => process.exit(0));
`;
const brokenRelease = "process.exit(1);\n";

describe("deploy script on a host", () => {
  let dir: string;
  let root: string;
  let port: number;
  let supervisorPid = 0;
  let env: Record<string, string>;
  let script: string;
  const p = hostPaths("sample-api");
  const at = (file: string) => path.join(root, file);

  const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  const release = (name: string, text: string) => {
    const f = path.join(dir, `${name}.js`);
    fs.writeFileSync(f, text);
    return f;
  };
  const run = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync("bash", [script, ...args], { env: { ...env, ...extra }, encoding: "utf8", timeout: 60_000 });
  /** Installs (and switches to) a release with the given text; returns the script's result. */
  const install = (v: string, text = goodRelease(v)) => {
    const f = release(v, text);
    return run(["--source", `file://${f}`, "--sha256", sha(f), "--version", v]);
  };
  const link = (file: string) =>
    fs.lstatSync(at(file), { throwIfNoEntry: false }) ? fs.readlinkSync(at(file)) : undefined;
  const current = () => link(p.current);
  const previous = () => link(p.previous);
  const installed = () =>
    fs
      .readdirSync(at(p.releases))
      .filter((n) => !n.startsWith("."))
      .sort();
  const get = () =>
    new Promise<string>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${port}/`, { agent: false }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve(body));
        })
        .on("error", reject),
    );
  /** `current` names an installed release, and the service answers as that release. */
  const expectServing = async (v: string) => {
    expect(current()).toBe(`releases/${v}`);
    expect(fs.existsSync(path.join(at(p.current), "server.js")), `${p.current} resolves to an installed release`).toBe(
      true,
    );
    expect(await get()).toBe(v);
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-step-"));
    root = path.join(dir, "host");
    port = await freePort(["127.0.0.1"]);
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(dir, "app.env"), `PORT=${port}\nHOST=127.0.0.1\n`);
    const supervisor = buildSupervisor(path.join(dir, "supervisor.js"));
    const cfg = {
      root,
      service: "sample-api",
      node: serviceNode(),
      envFile: path.join(dir, "app.env"),
      logFile: path.join(dir, "app.log"),
      socket: path.join(dir, "s.sock"),
      pidFile: path.join(dir, "app.pid"),
      stopTimeoutSec: 5,
      restartSec: 1,
    };
    fs.writeFileSync(path.join(dir, "supervisor.json"), JSON.stringify(cfg));
    // No release yet: the supervisor waits, as an enabled unit does before the boot installs one.
    const sup = spawn(process.execPath, [supervisor, "run", path.join(dir, "supervisor.json")], { stdio: "ignore" });
    supervisorPid = sup.pid!;
    script = path.join(dir, "deploy.sh");
    fs.writeFileSync(script, renderDeployScript({ service: { port }, keepReleases: 2 }), { mode: 0o755 });
    const ctl = `${process.execPath} ${supervisor} ctl ${cfg.socket}`;
    env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DEPLOY_ROOT: root,
      DEPLOY_RESTART_CMD: `${ctl} restart`,
      DEPLOY_STOP_CMD: `${ctl} stop`,
      DEPLOY_READY_TIMEOUT_SEC: "3",
    };
    for (let n = 0; n < 100 && !fs.existsSync(cfg.socket); n++) await new Promise((r) => setTimeout(r, 50));
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

  describe("first install (what the boot script runs)", () => {
    it("installs release 1 on an empty host, links current relatively, no previous, and starts the service", async () => {
      const r = install("v1");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/switching nothing -> releases\/v1/);
      await expectServing("v1");
      expect(previous()).toBeUndefined();
    });

    it("leaves the service stopped and no link behind when release 1 never becomes ready", async () => {
      const r = install("v1", brokenRelease);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no release ran before it: stopping sample-api/);
      expect(current()).toBeUndefined();
      expect(previous()).toBeUndefined();
      expect(await control(path.join(dir, "s.sock"), "status")).toBe("- -");
      await expect(get()).rejects.toThrow(/ECONNREFUSED/);
    });
  });

  describe("after release 1", () => {
    beforeEach(async () => {
      const r = install("v1");
      expect(r.status, r.stderr).toBe(0);
      await expectServing("v1");
    });

    it("installs, verifies, switches, restarts and waits until ready; the replaced release becomes previous", async () => {
      const r = install("v2");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/switching releases\/v1 -> releases\/v2/);
      await expectServing("v2");
      expect(previous()).toBe("releases/v1");
      expect(fs.readFileSync(at(`${p.releases}/v2/server.js`), "utf8")).toBe(goodRelease("v2"));
    });

    it("refuses a bundle whose checksum differs and changes nothing", async () => {
      const v2 = release("v2", goodRelease("v2"));
      const r = run(["--source", v2, "--sha256", "0".repeat(64), "--version", "v2"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/checksum mismatch/);
      expect(fs.existsSync(at(`${p.releases}/v2`))).toBe(false);
      await expectServing("v1");
      expect(previous()).toBeUndefined();
    });

    it("rolls back to the running release when the new one never becomes ready, previous unchanged", async () => {
      expect(install("v2").status).toBe(0);
      const r = install("bad", brokenRelease);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not ready after 3s/);
      expect(r.stderr).toMatch(/rolled back to releases\/v2/);
      await expectServing("v2");
      expect(previous()).toBe("releases/v1");
    });

    it("deploy, roll back, deploy again, roll back twice: current always names an installed release that answers", async () => {
      expect(install("v2").status).toBe(0);
      let r = run(["--rollback"]);
      expect(r.status, r.stderr).toBe(0);
      await expectServing("v1");
      expect(previous()).toBe("releases/v2");

      expect(install("v3").status).toBe(0);
      await expectServing("v3");
      expect(previous()).toBe("releases/v1");

      r = run(["--rollback"]);
      expect(r.status, r.stderr).toBe(0);
      await expectServing("v1");
      expect(previous()).toBe("releases/v3");
      r = run(["--rollback"]);
      expect(r.status, r.stderr).toBe(0);
      await expectServing("v3");
      expect(previous()).toBe("releases/v1");
      // keep 2: current and previous stay, v2 (the newest other) is pruned on the next deploy
      expect(installed()).toEqual(["v1", "v3"]);
    });

    it("refuses a rollback with nothing to roll back to and changes nothing", async () => {
      const r = run(["--rollback"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/nothing to roll back: current is v1, previous is not an installed release/);
      await expectServing("v1");
      expect(run(["--rollback", "--version", "v1"]).status).toBe(2);
    });

    it("switches back when the release it rolls back to does not become ready", async () => {
      expect(install("v2").status).toBe(0);
      // release folders are immutable, so this takes a hand: the previous release broke on disk
      fs.writeFileSync(at(`${p.releases}/v1/server.js`), brokenRelease);
      const r = run(["--rollback"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/releases\/v1 failed; switching back to releases\/v2/);
      await expectServing("v2");
      expect(previous()).toBe("releases/v1");
    });

    it("reads an absolute `current` left by an older boot script, and rolls back to it instead of a dangling link", async () => {
      fs.symlinkSync(at(`${p.releases}/v1`), at(`${p.current}.old`));
      fs.renameSync(at(`${p.current}.old`), at(p.current));
      let r = install("v2");
      expect(r.status, r.stderr).toBe(0);
      expect(previous()).toBe("releases/v1");
      r = run(["--rollback"]);
      expect(r.status, r.stderr).toBe(0);
      await expectServing("v1");
    });

    it("keeps only the newest releases, never current or previous", async () => {
      for (const v of ["v2", "v3", "v4"]) expect(install(v).status).toBe(0);
      expect(installed()).toEqual(["v3", "v4"]);
      expect(run(["--rollback"]).status).toBe(0);
      expect(install("v5").status).toBe(0);
      // v3 was current when v5 came: it is previous now, and kept although v4 is newer
      expect(previous()).toBe("releases/v3");
      expect(installed()).toEqual(["v3", "v5"]);
      await expectServing("v5");
    });

    it("passes its region to aws s3 cp, and DEPLOY_REGION overrides it", async () => {
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      const v2 = release("v2", goodRelease("v2"));
      // `aws` as S3 would answer: the object is the v2 file; the arguments are recorded
      fs.writeFileSync(path.join(bin, "aws"), `#!/bin/bash\necho "$*" >> ${dir}/aws-calls\ncp ${v2} "\${@: -1}"\n`, {
        mode: 0o755,
      });
      fs.writeFileSync(script, renderDeployScript({ service: { port }, keepReleases: 2, region: "eu-west-1" }));
      const paths = { PATH: `${bin}:${env.PATH}` };
      expect(run(["--source", "s3://b/v2.js", "--sha256", sha(v2), "--version", "v2"], paths).status).toBe(0);
      expect(
        run(["--source", "s3://b/v2.js", "--sha256", sha(v2), "--version", "v2"], {
          ...paths,
          DEPLOY_REGION: "ap-south-1",
        }).status,
      ).toBe(0);
      const calls = fs.readFileSync(path.join(dir, "aws-calls"), "utf8").trim().split("\n");
      expect(calls).toHaveLength(2);
      expect(calls[0]).toMatch(
        /^s3 cp --region eu-west-1 --only-show-errors s3:\/\/b\/v2\.js \S+\/\.incoming\.\w+\/server\.js$/,
      );
      expect(calls[1]).toMatch(/^s3 cp --region ap-south-1 /);
      await expectServing("v2");
    });

    it("retries a failing download with the boot's policy: two failures then the release; always failing, a bounded give-up", async () => {
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      const v2 = release("v2", goodRelease("v2"));
      // S3 that refuses the first $FAILS copies, then answers with the v2 file; sleep records its waits
      fs.writeFileSync(
        path.join(bin, "aws"),
        `#!/bin/bash\necho "$*" >> ${dir}/aws-calls\nn=$(wc -l < ${dir}/aws-calls)\nif [ "$n" -le "$FAILS" ]; then echo "Could not connect to the endpoint URL" >&2; exit 1; fi\ncp ${v2} "\${@: -1}"\n`,
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(bin, "sleep"), `#!/bin/bash\necho "$*" >> ${dir}/sleeps\n`, { mode: 0o755 });
      const calls = () => fs.readFileSync(path.join(dir, "aws-calls"), "utf8").trim().split("\n").length;
      const sleeps = () => fs.readFileSync(path.join(dir, "sleeps"), "utf8").trim().split("\n");
      const deployV2 = (fails: number) =>
        run(["--source", "s3://b/v2.js", "--sha256", sha(v2), "--version", "v2"], {
          PATH: `${bin}:${env.PATH}`,
          FAILS: String(fails),
        });

      let r = deployV2(2);
      expect(r.status, r.stderr).toBe(0);
      expect(calls()).toBe(3);
      expect(sleeps()).toEqual([String(retryPolicy.firstWaitSec), String(retryPolicy.firstWaitSec * 2)]);
      expect(r.stderr).toMatch(/download attempt 1 failed, again in 2s: aws/);
      await expectServing("v2");

      fs.rmSync(path.join(dir, "aws-calls"));
      fs.rmSync(path.join(dir, "sleeps"));
      const v3 = release("v3", goodRelease("v3"));
      r = run(["--source", "s3://b/v3.js", "--sha256", sha(v3), "--version", "v3"], {
        PATH: `${bin}:${env.PATH}`,
        FAILS: "99",
      });
      expect(r.status).toBe(1);
      expect(calls()).toBe(retryPolicy.attempts);
      expect(sleeps()).toEqual(["2", "4", "8", "16"]);
      expect(r.stderr).toMatch(
        new RegExp(
          `download gave up after ${retryPolicy.attempts} attempts: aws\\n.*could not fetch s3://b/v3.js; nothing changed`,
        ),
      );
      // nothing changed: no v3 folder, no leftover download, v2 still serving with v1 before it
      expect(installed()).toEqual(["v1", "v2"]);
      expect(fs.readdirSync(at(p.releases)).filter((n) => n.startsWith("."))).toEqual([]);
      await expectServing("v2");
      expect(previous()).toBe("releases/v1");
    });

    it("answers bad usage with exit 2 and one message", () => {
      const r = run(["--source", "/x", "--sha256", "abc", "--version", "v2"]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--sha256 must be 64 lowercase hex digits/);
      expect(run(["--version", "../etc", "--sha256", "0".repeat(64), "--source", "/x"]).stderr).toMatch(
        /--version must be/,
      );
      expect(run(["--rollback"], { DEPLOY_REGION: "mars" }).stderr).toMatch(/DEPLOY_REGION must be an AWS region name/);
    });
  });
});
