// Each rendered file checked by the program that reads it, plus one broken rendering it must reject.
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { formatProblem } from "../contract/problem";
import {
  checkHostInput,
  compressUserData,
  encodeUserData,
  renderHostFiles,
  renderLogrotate,
  renderPapertrailAction,
  renderRsyslog,
  renderUnit,
  renderUserData,
  userDataLimitBytes,
  withHostDefaults,
} from "./index";
import { renderBootScript } from "./bootScript";
import { permittedPeer } from "./rsyslog";
import { sampleInput } from "../test/support/hostInput";
import { gtlsDriverPresent, run, tempDir } from "../test/support/tools";

const dir = tempDir("validate");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const input = sampleInput();
let n = 0;
const write = (name: string, text: string) => {
  const p = path.join(dir, `${n++}-${name}`);
  fs.writeFileSync(p, text);
  return p;
};

// `verify` checks that ExecStart binaries exist. The unit runs the runtime the boot script installs, absent
// here: the copy points at the node running this test (same checks, existing binary).
function verifyUnit(text: string) {
  const node = `${nodeBinaryPath(input.runtime.version)} `;
  const unit = write(`${input.service.name}.service`, text.replaceAll(node, `${process.execPath} `));
  fs.renameSync(unit, path.join(dir, `${input.service.name}.service`));
  const r = run("systemd-analyze", ["verify", path.join(dir, `${input.service.name}.service`)]);
  return { ok: r.status === 0 && r.stderr.trim() === "", output: r.stderr };
}
function exposure(text: string): number {
  const unit = path.join(dir, `${input.service.name}.service`);
  fs.writeFileSync(unit, text);
  const r = run("systemd-analyze", ["security", "--offline=yes", "--no-pager", unit]);
  const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure level in: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

describe("systemd unit", () => {
  it("passes systemd-analyze verify; a misspelt directive fails it", () => {
    const unit = renderUnit(input);
    expect(verifyUnit(unit)).toEqual({ ok: true, output: "" });
    expect(verifyUnit(unit.replace("KillSignal=", "KillSignall=")).ok).toBe(false);
  });
  it("rates exposure <= 1.5 in systemd-analyze security (the goal for every unit); without its sandbox it rates far higher", () => {
    const unit = renderUnit(input);
    const score = exposure(unit);
    console.log(`systemd-analyze security exposure: ${score}`);
    expect(score).toBeLessThanOrEqual(1.5);
    const allowList = exposure(renderUnit({ ...input, allowOutboundOnlyTo: ["10.20.0.0/16"] }));
    console.log(`with allowOutboundOnlyTo: ${allowList}`);
    expect(allowList).toBeLessThanOrEqual(score);
    const unsandboxed = unit.slice(0, unit.indexOf("# Sandbox.")) + "\n[Install]\nWantedBy=multi-user.target\n";
    expect(exposure(unsandboxed)).toBeGreaterThan(5);
  });
  it("denies the instance metadata service always, everything else only with allowOutboundOnlyTo (verify accepts both)", () => {
    const unit = renderUnit(input);
    expect(unit).toMatch(/^IPAddressDeny=169\.254\.169\.254\/32 fd00:ec2::254\/128$/m);
    expect(unit).not.toMatch(/^IPAddressAllow=|^IPAddressDeny=any$/m);
    expect(unit).toMatch(/^SystemCallFilter=pkey_alloc pkey_free pkey_mprotect$/m);
    const closed = renderUnit({ ...input, allowOutboundOnlyTo: ["10.20.0.0/16", "fd12:3456::/56"] });
    expect(closed).toMatch(/^IPAddressDeny=any$/m);
    expect(closed).toMatch(/^IPAddressAllow=localhost 10\.20\.0\.0\/16 fd12:3456::\/56$/m);
    expect(verifyUnit(closed)).toEqual({ ok: true, output: "" });
    // an allowed address passes even where denied: a list covering IMDS, or not a CIDR, is refused
    const check = (list: string[]) => checkHostInput({ ...input, allowOutboundOnlyTo: list }).map(formatProblem);
    expect(check(["10.20.0.0/16"])).toEqual([]);
    expect(check(["0.0.0.0/0"])).toEqual([
      expect.stringMatching(/^allowOutboundOnlyTo\[0\]: "0\.0\.0\.0\/0" covers the instance metadata service/),
    ]);
    expect(check(["10.0.0.0/8", "169.254.0.0/16"])).toEqual([
      expect.stringMatching(/^allowOutboundOnlyTo\[1\]: .* covers the instance metadata/),
    ]);
    expect(check(["fd00::/8"])).toEqual([expect.stringMatching(/covers the instance metadata/)]);
    expect(check(["10.20.0.0", "10.20.0.0/33", "vpc"])).toHaveLength(3);
    expect(check([])).toEqual([expect.stringMatching(/^allowOutboundOnlyTo: give at least one CIDR/)]);
    expect(
      withHostDefaults({
        env: "prod",
        version: "v1",
        bundle: input.bundle,
        runtime: input.runtime,
        allowOutboundOnlyTo: ["10.20.0.0/16"],
      }).allowOutboundOnlyTo,
    ).toEqual(["10.20.0.0/16"]);
    expect(
      withHostDefaults({ env: "prod", version: "v1", bundle: input.bundle, runtime: input.runtime }),
    ).not.toHaveProperty("allowOutboundOnlyTo");
  });
  it("keeps JIT memory allowed and takes its stop timeout from the service settings", () => {
    const unit = renderUnit(input);
    expect(unit).not.toMatch(/MemoryDenyWriteExecute=yes/);
    expect(unit).toContain(`TimeoutStopSec=${Math.ceil(input.service.shutdownTimeoutMs / 1000) + 10}`);
    expect(unit).toContain(`EnvironmentFile=${hostPaths("sample-api").envFile}`);
  });
});

describe("rsyslog", () => {
  it("permits the wildcard of the destination's domain, which Papertrail's certificate names, and keeps checking names", () => {
    const action = renderPapertrailAction(input, { host: "logs3.papertrailapp.com", port: 12345 });
    expect(action).toContain('target="logs3.papertrailapp.com"');
    expect(action).toContain('StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="*.papertrailapp.com"');
    expect(permittedPeer("127.0.0.1")).toBe("127.0.0.1");
    expect(permittedPeer("papertrailapp.com")).toBe("papertrailapp.com");
    // the boot script's heredoc: bash derives the same pattern from the host it read from SSM
    const shell = run("bash", ["-c", `pt_host=logs5.papertrailapp.com; cat <<X\n${permittedPeer("${pt_host}")}\nX`]);
    expect(shell.stdout.trim()).toBe("*.papertrailapp.com");
  });

  it("rsyslogd -N1 accepts the rules with the Papertrail include; a misspelt parameter is rejected", () => {
    gtlsDriverPresent();
    const include = write(
      "papertrail.conf",
      renderPapertrailAction(input, { host: "logs1.papertrailapp.com", port: 12345 }),
    );
    const site = {
      input: { statements: `module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="0")`, name: "imtcp" },
      logFile: path.join(dir, "svc.log"),
      fileOwner: "root",
      fileGroup: "root",
      forwardInclude: include,
    };
    const ok = run("rsyslogd", ["-N1", "-f", write("rsyslog.conf", renderRsyslog(input, site))]);
    expect(ok.stderr + ok.stdout).not.toMatch(/error/i);
    expect(ok.status).toBe(0);
    // the production rules (imjournal input) parse too
    const prod = run("rsyslogd", ["-N1", "-f", write("rsyslog-prod.conf", renderRsyslog(input))]);
    expect(prod.status, prod.stderr).toBe(0);
    const badInclude = write(
      "papertrail-bad.conf",
      renderPapertrailAction(input, { host: "h", port: 1 }).replace("StreamDriverAuthMode", "StreamDriverAuthMod"),
    );
    const bad = run("rsyslogd", [
      "-N1",
      "-f",
      write("rsyslog-bad.conf", renderRsyslog(input, { ...site, forwardInclude: badInclude })),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/StreamDriverAuthMod/);
  });
});

describe("logrotate", () => {
  it("logrotate -d accepts the config; a bad rotate count is rejected", () => {
    const state = path.join(dir, "logrotate.state");
    const conf = renderLogrotate(input);
    const ok = run("logrotate", ["-d", "-s", state, write("logrotate.conf", conf)]);
    expect(ok.stderr).not.toMatch(/error/);
    expect(ok.status).toBe(0);
    expect(conf).not.toMatch(/copytruncate/);
    const bad = run("logrotate", [
      "-d",
      "-s",
      state,
      write("logrotate-bad.conf", conf.replace(/rotate \d+/, "rotate many")),
    ]);
    expect(bad.status).not.toBe(0);
  });
});

describe("boot and deploy scripts", () => {
  it("the deploy script as a host gets it passes shellcheck", () => {
    const deploy = renderHostFiles(input).find((f) => f.path === hostPaths(input.service.name).deployScript)!;
    const ok = run("shellcheck", ["-s", "bash", write("deploy.sh", deploy.content)]);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(deploy.content).toContain(`region="\${DEPLOY_REGION:-${input.region}}"`);
  });

  it("the boot script passes shellcheck; an unquoted expansion is flagged", () => {
    const script = renderBootScript(input);
    const ok = run("shellcheck", ["-s", "bash", write("boot.sh", script)]);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const bad = run("shellcheck", [
      "-s",
      "bash",
      write("boot-bad.sh", script.replace(`mv -f "$tmp" "$1"`, "mv -f $tmp $1")),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/SC2086/);
  });
});

describe("cloud-init user-data", () => {
  it("cloud-init schema accepts it; a misspelt key is rejected", () => {
    const ud = renderUserData(input);
    const ok = run("cloud-init", ["schema", "--config-file", write("user-data", ud)]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = run("cloud-init", [
      "schema",
      "--config-file",
      write("user-data-bad", ud.replace("permissions:", "permisions:")),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/permisions/);
  });
  it("writes every host file with owner and mode, and ships gzipped under EC2's 16 KB", () => {
    const ud = renderUserData(input);
    expect(ud.split("\n")[0]).toBe("#cloud-config");
    for (const f of renderHostFiles(input)) expect(ud).toContain(`path: ${f.path}`);
    const shipped = compressUserData(ud);
    console.log(
      `service user-data: ${Buffer.byteLength(ud)} bytes as text, ${shipped.length} gzipped (EC2 limit ${userDataLimitBytes})`,
    );
    expect(shipped.length).toBeLessThan(userDataLimitBytes);
    expect(gunzipSync(Buffer.from(encodeUserData(ud), "base64")).toString("utf8")).toBe(ud);
    expect(() => compressUserData(randomBytes(userDataLimitBytes).toString("hex"))).toThrow(/EC2 takes at most 16384/);
  });
});
