// The boot script run for real in bash, a section at a time. Secrets, with `aws` replaced by a function
// that plays SSM: values land in 0600 files, the Papertrail include it writes is valid rsyslog config,
// bad values stop it. Release 1, with the deploy script and systemctl replaced by recorders: the boot
// hands the release to the deploy script and fails loudly, unit not enabled, when it does not install.
import { hostPaths } from "../contract/layout";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { renderBootScript } from "./bootScript";
import { sampleInput } from "../test/support/hostInput";
import { gtlsDriverPresent, run, tempDir, tool } from "../test/support/tools";

const dir = tempDir("boot");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const input = sampleInput();
const script = renderBootScript(input);
const p = hostPaths(input.service.name);

/** The script's variables, helpers and secrets section; absolute secret paths redirected into `out`. */
function secretsSection(out: string): string {
  const head = script.slice(0, script.indexOf("# --- packages"));
  const helpers = script.slice(script.indexOf("ssm_get() {"), script.indexOf("dd_api_key=$(ssm_get"));
  const body = script.slice(script.indexOf("dd_api_key=$(ssm_get"), script.indexOf("# --- units"));
  return (head + helpers + body).replaceAll(`${p.secrets}/`, `${out}/`);
}

function runSecrets(values: Record<string, string>) {
  const work = fs.mkdtempSync(path.join(dir, "run-"));
  const out = path.join(work, "secrets");
  fs.mkdirSync(out, { mode: 0o700 });
  const calls = path.join(work, "aws-calls");
  // `aws` as SSM would answer: the value of the parameter named after --name, or an error.
  const aws = `aws() { echo "$*" >> ${calls}; local name=""; while [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done
  case "$name" in ${Object.entries(values)
    .map(([k, v]) => `'${k}') printf '%s\\n' '${v}' ;;`)
    .join(" ")} *) echo "ParameterNotFound $name" >&2; return 254 ;; esac; }\n`;
  const file = path.join(work, "run.sh");
  fs.writeFileSync(file, secretsSection(out).replace("log() {", aws + "log() {"));
  const r = spawnSync(tool("bash"), [file], { encoding: "utf8" });
  return { ...r, out, calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "" };
}

const key = "0123456789abcdef0123456789abcdef";
const dest = "logs9.papertrailapp.com:41234";

describe("boot script secrets", () => {
  it("writes each value once into a 0600 file, from the named parameters, decrypted", () => {
    const r = runSecrets({ [input.ssm.datadogApiKey]: key, [input.ssm.papertrailDestination]: dest });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls).toContain(
      `ssm get-parameter --region ${input.region} --with-decryption --name ${input.ssm.datadogApiKey}`,
    );
    expect(r.calls).toContain(`--with-decryption --name ${input.ssm.papertrailDestination}`);
    const ddEnv = path.join(r.out, path.basename(p.datadogEnvFile));
    const ptConf = path.join(r.out, path.basename(p.papertrailInclude));
    expect(fs.readFileSync(ddEnv, "utf8")).toBe(`DD_API_KEY=${key}\n`);
    for (const f of [ddEnv, ptConf]) expect((fs.statSync(f).mode & 0o777).toString(8)).toBe("600");
    const holding = fs.readdirSync(r.out).filter((n) => fs.readFileSync(path.join(r.out, n), "utf8").includes(key));
    expect(holding).toEqual([path.basename(p.datadogEnvFile)]);

    // the include is a valid omfwd action aimed at the destination, checked by name
    gtlsDriverPresent();
    const pt = fs.readFileSync(ptConf, "utf8");
    expect(pt).toContain('target="logs9.papertrailapp.com" port="41234"');
    expect(pt).toContain('StreamDriverPermittedPeers="*.papertrailapp.com"'); // the wildcard Papertrail's certificate names
    const conf = path.join(path.dirname(r.out), "check.conf");
    fs.writeFileSync(conf, `global(workDirectory="${r.out}")\n${pt}`);
    const check = run("rsyslogd", ["-N1", "-f", conf]);
    expect(check.status, check.stderr).toBe(0);
  });

  it("stops with a message naming the parameter when a value is malformed or missing", () => {
    const bad = runSecrets({ [input.ssm.datadogApiKey]: key, [input.ssm.papertrailDestination]: 'evil" target="x' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`SSM ${input.ssm.papertrailDestination}: expected host:port`);
    expect(fs.existsSync(path.join(bad.out, path.basename(p.papertrailInclude)))).toBe(false);
    const missing = runSecrets({});
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`ParameterNotFound ${input.ssm.datadogApiKey}`);
  });
});

describe("boot script release 1", () => {
  /** The script's variables and its release section, with the deploy script and systemctl recording their calls. */
  function runRelease(deployExit: number) {
    const work = fs.mkdtempSync(path.join(dir, "release-"));
    const calls = path.join(work, "calls");
    const deploy = path.join(work, "deploy");
    fs.writeFileSync(deploy, `#!/bin/bash\necho "deploy $*" >> ${calls}\nexit ${deployExit}\n`, { mode: 0o755 });
    const head = script.slice(0, script.indexOf("# --- packages"));
    const release = script.slice(script.indexOf("# --- release 1"));
    const systemctl = `systemctl() { echo "systemctl $*" >> ${calls}; }\n`;
    const file = path.join(work, "run.sh");
    fs.writeFileSync(file, head.replace("log() {", systemctl + "log() {") + release.replaceAll(p.deployScript, deploy));
    const r = spawnSync(tool("bash"), [file], { encoding: "utf8" });
    return { ...r, calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [] };
  }

  it("installs release 1 with the deploy script (bundle, checksum, version), then enables the unit", () => {
    const r = runRelease(0);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([
      `deploy --source ${input.bundle.url} --sha256 ${input.bundle.sha256} --version ${input.version}`,
      `systemctl enable ${input.service.name}.service`,
    ]);
  });

  it("fails the boot, unit not enabled, when the deploy script fails", () => {
    const r = runRelease(1);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `release ${input.version} did not install; ${input.service.name} is stopped and not enabled`,
    );
    expect(r.calls).toEqual([
      `deploy --source ${input.bundle.url} --sha256 ${input.bundle.sha256} --version ${input.version}`,
    ]);
  });

  it("has no release step of its own: the bundle goes only to the deploy script, no link outside it", () => {
    expect(script).not.toMatch(/ln -s/);
    expect(script.match(/\$bundle_url/g)).toHaveLength(1);
    expect(script.indexOf("# --- release 1")).toBeGreaterThan(script.indexOf("systemctl restart rsyslog.service"));
  });
});

describe("boot script apt sources", () => {
  it("moves Debian's mirrors to https (egress is HTTPS only) and leaves other sources alone", () => {
    const dir = tempDir("apt");
    const script = renderBootScript(sampleInput());
    const loop = script.slice(
      script.indexOf("for f in /etc/apt/"),
      script.indexOf("done\n", script.indexOf("for f in /etc/apt/")) + 5,
    );
    const list = path.join(dir, "sources.list");
    const deb822 = path.join(dir, "debian.sources");
    fs.writeFileSync(
      list,
      "deb http://cdn-aws.deb.debian.org/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\ndeb http://example.org/x bookworm main\n",
    );
    fs.writeFileSync(deb822, "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n");
    const r = spawnSync(
      "bash",
      ["-euo", "pipefail", "-c", loop.replace(/for f in [^;]+;/, `for f in ${list} ${deb822} ${dir}/absent.list;`)],
      {
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(list, "utf8")).toBe(
      "deb https://cdn-aws.deb.debian.org/debian bookworm main\ndeb https://security.debian.org/debian-security bookworm-security main\ndeb http://example.org/x bookworm main\n",
    );
    expect(fs.readFileSync(deb822, "utf8")).toContain("URIs: https://deb.debian.org/debian\n");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
