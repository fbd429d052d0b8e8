// The warm-pool lifecycle check, checked by the tools that read it (shellcheck, systemd-analyze verify) and run
// against a stand-in instance metadata service and a stand-in `aws` command, all on 127.0.0.1:
//   - entering the warm pool (target Warmed:Stopped): waits for cloud-init, then CONTINUE;
//   - leaving it (target InService, user data does not run again): CONTINUE, no cloud-init wait;
//   - a service that never answers /readyz: no completion; the script leaves once the target state changes
//     (the hook's timeout applied its DefaultResult ABANDON: docs .../warm-pool-instance-lifecycle.html);
//   - a release other than the one the user-data installs: ABANDON at once;
//   - not in an Auto Scaling group (IMDS has no target state, e.g. the HAProxy flavor's fleet): nothing.
// The stand-in IMDS answers only with a token from PUT /latest/api/token, as IMDSv2 with httpTokens=required.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { renderHostFiles, renderUnit } from "./index";
import { withHostDefaults } from "./input";
import {
  LifecycleSite,
  launchHookName,
  lifecyclePaths,
  renderLifecycleDropIn,
  renderLifecycleScript,
  renderLifecycleUnit,
} from "./lifecycle";
import { run, tempDir } from "../test/support/tools";
import { sampleRuntime } from "../test/support/hostInput";

const dir = tempDir("lifecycle");
const bundle = "console.log('release v1')\n";
const input = withHostDefaults({
  env: "prod",
  version: "v1",
  bundle: { url: "s3://bundles/releases/x.js", sha256: createHash("sha256").update(bundle).digest("hex") },
  runtime: sampleRuntime,
});
const group = "sample-api-asg-0a1b2c3";
const instanceId = "i-0123456789abcdef0";
const token = "stand-in-token-5c1f";

// The stand-in IMDS: target state settable by the test; every GET needs the session token.
let target: string | undefined;
const imdsRequests: string[] = [];
const imds = http.createServer((req, res) => {
  imdsRequests.push(`${req.method} ${req.url}`);
  if (req.method === "PUT" && req.url === "/latest/api/token" && req.headers["x-aws-ec2-metadata-token-ttl-seconds"])
    return res.end(token);
  if (req.headers["x-aws-ec2-metadata-token"] !== token) return res.writeHead(401).end();
  const answers: Record<string, string | undefined> = {
    "/latest/meta-data/autoscaling/target-lifecycle-state": target,
    "/latest/meta-data/instance-id": instanceId,
  };
  const body = answers[req.url ?? ""];
  if (body === undefined) return res.writeHead(404).end();
  res.end(body);
});
let ready = true;
const service = http.createServer((req, res) => res.writeHead(req.url === "/readyz" && ready ? 200 : 503).end());
const listen = (s: http.Server) =>
  new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));

let site: LifecycleSite;
const bin = path.join(dir, "bin");
const calls = path.join(dir, "calls.log");
beforeAll(async () => {
  const [imdsPort, servicePort] = await Promise.all([listen(imds), listen(service)]);
  fs.mkdirSync(path.join(dir, "releases", "v1"), { recursive: true });
  fs.mkdirSync(path.join(dir, "releases", "v0"), { recursive: true });
  fs.writeFileSync(path.join(dir, "releases", "v1", "server.js"), bundle);
  fs.writeFileSync(path.join(dir, "releases", "v0", "server.js"), "console.log('release v0')\n");
  site = {
    imds: `http://127.0.0.1:${imdsPort}/latest`,
    readyUrl: `http://127.0.0.1:${servicePort}/readyz`,
    current: path.join(dir, "current"),
    release: path.join(dir, "releases", "v1"),
    pollSec: 0.2,
  };
  fs.mkdirSync(bin);
  // Stand-ins: `aws` logs its arguments and names the group; `cloud-init status --wait` logs and returns.
  fs.writeFileSync(
    path.join(bin, "aws"),
    `#!/bin/bash\necho "aws $*" >> '${calls}'\n[ "$2" = describe-auto-scaling-instances ] && echo '${group}'\nexit 0\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, "cloud-init"), `#!/bin/bash\necho "cloud-init $*" >> '${calls}'\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "lifecycle.sh"), renderLifecycleScript(input, site), { mode: 0o755 });
});
afterAll(async () => {
  await Promise.all([new Promise((r) => imds.close(r)), new Promise((r) => service.close(r))]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the rendered script with the stand-ins first on PATH; resolves with its exit code and stderr. */
function runScript(timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path.join(dir, "lifecycle.sh")], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`script still running after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
const callsMade = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []);
function install(version: string) {
  fs.rmSync(site.current, { force: true });
  fs.symlinkSync(path.join(dir, "releases", version), site.current);
}
function reset(state: string | undefined, opts: { ready?: boolean; version?: string } = {}) {
  target = state;
  ready = opts.ready ?? true;
  install(opts.version ?? "v1");
  fs.rmSync(calls, { force: true });
  imdsRequests.length = 0;
}
const completion = (result: string) =>
  `aws autoscaling complete-lifecycle-action --auto-scaling-group-name ${group} --lifecycle-hook-name ${launchHookName("sample-api")} --instance-id ${instanceId} --lifecycle-action-result ${result} --region us-east-1`;

describe("lifecycle script against stand-ins on 127.0.0.1", () => {
  it("entering the warm pool (Warmed:Stopped): waits for cloud-init to finish, then completes with CONTINUE", async () => {
    reset("Warmed:Stopped");
    const r = await runScript();
    expect(r).toMatchObject({ code: 0 });
    expect(callsMade()).toEqual([
      "cloud-init status --wait",
      `aws autoscaling describe-auto-scaling-instances --instance-ids ${instanceId} --query AutoScalingInstances[0].AutoScalingGroupName --output text --region us-east-1`,
      completion("CONTINUE"),
    ]);
    expect(imdsRequests[0]).toBe("PUT /latest/api/token");
  });

  it("leaving the warm pool (InService, no user data): completes with CONTINUE once /readyz answers", async () => {
    reset("InService", { ready: false });
    const running = runScript();
    await new Promise((r) => setTimeout(r, 1000));
    expect(callsMade()).toEqual([]);
    ready = true;
    expect(await running).toMatchObject({ code: 0 });
    expect(callsMade()).toEqual([expect.stringContaining("describe-auto-scaling-instances"), completion("CONTINUE")]);
  });

  it("a service that never gets ready: no completion; leaves when the hook's timeout abandons the instance", async () => {
    reset("Warmed:Stopped", { ready: false });
    const running = runScript();
    await new Promise((r) => setTimeout(r, 1500));
    expect(callsMade()).toEqual([]);
    target = "Warmed:Terminated";
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/now Warmed:Terminated/);
    expect(callsMade()).toEqual([]);
  });

  it("a release other than the user-data's: ABANDON at once", async () => {
    reset("InService", { version: "v0" });
    const r = await runScript();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not v1/);
    expect(callsMade()).toContain(completion("ABANDON"));
  });

  it("no instance metadata service at all (not on EC2): completes nothing and does not fail the unit", async () => {
    reset("InService");
    const closed = http.createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    fs.writeFileSync(
      path.join(dir, "lifecycle.sh"),
      renderLifecycleScript(input, { ...site, imds: `http://127.0.0.1:${port}/latest` }),
    );
    try {
      const r = await runScript();
      expect(r).toMatchObject({ code: 0, stderr: expect.stringMatching(/no IMDS/) });
      expect(callsMade()).toEqual([]);
    } finally {
      fs.writeFileSync(path.join(dir, "lifecycle.sh"), renderLifecycleScript(input, site));
    }
  });

  it("not in an Auto Scaling group: completes nothing", async () => {
    reset(undefined);
    const r = await runScript();
    expect(r).toMatchObject({ code: 0 });
    expect(callsMade()).toEqual([]);
  });
});

describe("lifecycle files", () => {
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };

  it("the script passes shellcheck; an unquoted expansion is flagged", () => {
    const script = renderLifecycleScript(input);
    const ok = run("shellcheck", ["-s", "bash", write("check/lifecycle.sh", script)]);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const bad = run("shellcheck", [
      "-s",
      "bash",
      write("check/lifecycle-bad.sh", script.replace(`--instance-ids "$i"`, "--instance-ids $i")),
    ]);
    expect(bad.stdout).toMatch(/SC2086/);
  });

  it("the unit and the service's drop-in pass systemd-analyze verify; a misspelt directive fails it", () => {
    const units = path.join(dir, "units");
    const p = lifecyclePaths("sample-api");
    // verify checks that executables exist: the copies point at this test's node and script.
    write(
      `units/sample-api.service`,
      renderUnit(input).replaceAll(`${nodeBinaryPath(input.runtime.version)} `, `${process.execPath} `),
    );
    write(`units/sample-api.service.d/lifecycle.conf`, renderLifecycleDropIn(input));
    const unit = write(
      `units/sample-api-lifecycle.service`,
      renderLifecycleUnit(input).replace(p.script, path.join(dir, "lifecycle.sh")),
    );
    const ok = run("systemd-analyze", ["verify", unit, path.join(units, "sample-api.service")]);
    expect(ok.stderr.trim()).toBe("");
    expect(ok.status).toBe(0);
    write(`units/sample-api.service.d/lifecycle.conf`, renderLifecycleDropIn(input).replace("Wants=", "Wantz="));
    const bad = run("systemd-analyze", ["verify", path.join(units, "sample-api.service")]);
    expect(bad.stderr).toMatch(/Wantz/);
  });

  it("every service host gets them: the script executable, the unit, and the drop-in that starts it with the service", () => {
    const files = renderHostFiles(input);
    const p = lifecyclePaths("sample-api");
    expect(files.find((f) => f.path === p.script)).toMatchObject({ mode: "0755", owner: "root:root" });
    expect(files.find((f) => f.path === p.unit)?.content).toContain(`ExecStart=${p.script}`);
    expect(files.find((f) => f.path === p.dropIn)?.content).toContain("Wants=sample-api-lifecycle.service");
    expect(p.dropIn.startsWith(`${hostPaths("sample-api").unit}.d/`)).toBe(true);
  });
});
