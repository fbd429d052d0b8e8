// The production user-data of both host kinds, run end to end by test/support/bootHarness.ts: real curl over
// file:// stand-ins of AWS's and Datadog's distributions, real gpgv and gpg against throwaway keys, real
// sha256sum; apt, dpkg, systemd, S3, SSM and the journal are recording stand-ins. The tests read what was
// fetched, verified, used and started, and in which order.
import { createHash, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { nodeRuntime } from "../contract/runtime";
import { renderNodeUserData } from "./haproxy/nodeUserData";
import { HostBaseOptions, withHostDefaults } from "./input";
import { renderBootScript } from "./bootScript";
import { renderUserData } from "./userData";
import { BootResult, BootStandIns, runUserData, testKeys } from "../test/support/bootHarness";
import { sampleInput } from "../test/support/hostInput";
import { gtlsDriverPresent, run, tempDir, tool } from "../test/support/tools";

const dir = tempDir("boot");
const keys = testKeys(dir);
const fx = path.join(dir, "fixtures");
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const ddKey = "0123456789abcdef0123456789abcdef";
const papertrail = "logs9.papertrailapp.com:41234";
const runtimeUrl = "s3://vm-artifacts/runtimes/node";
let ssmFpr: string;
let ddFprs: string[];
let sources: HostBaseOptions;
let runtimeFile: string;

beforeAll(() => {
  ssmFpr = keys.create("SSM stand-in <ssm@example.test>");
  ddFprs = [keys.create("Datadog stand-in 1 <dd1@example.test>"), keys.create("Datadog stand-in 2 <dd2@example.test>")];
  const deb = path.join(fx, "dist", "3.3.5226.0", "debian_amd64", "amazon-ssm-agent.deb");
  fs.mkdirSync(path.dirname(deb), { recursive: true });
  fs.writeFileSync(deb, randomBytes(4096));
  keys.sign(ssmFpr, deb);
  fs.mkdirSync(path.join(fx, "keys"));
  for (const f of ddFprs)
    fs.writeFileSync(path.join(fx, "keys", `DATADOG_APT_KEY_${f.slice(-8)}.public`), keys.armored(f));
  runtimeFile = path.join(fx, "node");
  fs.writeFileSync(runtimeFile, randomBytes(8192));
  sources = {
    env: "prod",
    ssmAgent: { baseUrl: `file://${fx}/dist`, keyring: keys.binary(ssmFpr).toString("base64") },
    datadogAgent: { aptUrl: `file://${fx}/apt/`, keysUrl: `file://${fx}/keys`, keyFingerprints: ddFprs },
  };
});
afterAll(() => {
  keys.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const serviceInput = (runtimeSha = sha(fs.readFileSync(runtimeFile))) =>
  withHostDefaults({
    ...sources,
    version: "2026.11.25-1",
    bundle: { url: "s3://vm-artifacts/releases/x.js", sha256: "ab".repeat(32) },
    runtime: { url: runtimeUrl, sha256: runtimeSha, version: nodeRuntime.version },
  });
const ssmValues = (i = serviceInput()) => ({ [i.ssm.datadogApiKey]: ddKey, [i.ssm.papertrailDestination]: papertrail });
const bootService = (o: Partial<BootStandIns> = {}, input = serviceInput()) =>
  runUserData(renderUserData(input), { ssm: ssmValues(input), s3: { [runtimeUrl]: runtimeFile }, ...o });
const nodeUserData = () =>
  renderNodeUserData({ ...sources, fleetDnsName: "fleet.sample-api.prod.internal", serverSlots: 4 });
const bootNode = (o: Partial<BootStandIns> = {}) => runUserData(nodeUserData(), { ssm: ssmValues(), ...o });

/** Index of the first event matching `pred`, -1 when none. */
const at = (r: BootResult, pred: (e: string[]) => boolean) => r.events.findIndex(pred);
const is =
  (...prefix: string[]) =>
  (e: string[]) =>
    prefix.every((p, n) => e[n] === p);
const has = (word: string) => (e: string[]) => e.some((a) => a.includes(word));

/**
 * Issue 12 item 7, over what a boot did: every fetched file is verified (sha256, gpgv, or a key's fingerprint
 * read by gpg) before anything uses it; nothing is fetched to stdout (no `curl | sh`); every apt source outside
 * Debian's is signed-by a keyring holding only pinned keys, never trusted=yes; every package from outside
 * Debian's list is pinned to a version. Returns the violations.
 */
function unverified(r: BootResult, pinned: string[], debian: string[]): string[] {
  const out: string[] = [];
  r.events.forEach((e, n) => {
    if (e[0] === "fetch-to-stdout") out.push(`fetched to stdout: ${e[1]}`);
    if (e[0] === "use") {
      const fetched = r.events.slice(0, n).some((f) => f[0] === "fetch" && f[2] === e[1]);
      const verified = r.events.slice(0, n).some((f) => f[0] === "verify" && f.slice(1).includes(e[1]!));
      if (fetched && !verified) out.push(`used before it was verified: ${e[1]}`);
    }
    if (e[0] === "apt-source") {
      if (/trusted=yes/.test(e[2]!)) out.push(`${e[1]}: trusted=yes`);
      const keyring = e[2]!.match(/signed-by=([^\]\s]+)/)?.[1];
      const ring = keyring && r.file(keyring);
      if (!ring) out.push(`${e[1]}: no signed-by keyring`);
      else {
        const shown = spawnSync(tool("gpg"), ["--batch", "--show-keys", "--with-colons"], {
          input: Buffer.from(ring.content, "latin1"),
          encoding: "utf8",
        }).stdout;
        const fprs = shown.split("\n").filter((l, k, all) => all[k - 1]?.startsWith("pub:") && l.startsWith("fpr:"));
        for (const f of fprs.map((l) => l.split(":")[9]!))
          if (!pinned.includes(f)) out.push(`${keyring} holds a key that is not pinned: ${f}`);
        if (fprs.length === 0) out.push(`${keyring} holds no key`);
      }
    }
    if (e[0] === "apt-get" && e[1] === "install")
      for (const pkg of e.slice(2).filter((a) => !a.startsWith("-")))
        if (!pkg.includes("=") && !debian.includes(pkg)) out.push(`unpinned package from outside Debian: ${pkg}`);
  });
  return out;
}
const debianPackages = [
  "libatomic1",
  "ca-certificates",
  "rsyslog",
  "rsyslog-gnutls",
  "logrotate",
  "gnupg",
  "awscli",
  "haproxy",
  "socat",
];

describe("service host boot", () => {
  it("installs the SSM agent first, then Debian's packages, the runtime, the secrets, the agent, the units, release 1", () => {
    const r = bootService();
    expect(r.status, r.stderr).toBe(0);
    const p = hostPaths("sample-api");
    const order = [
      at(r, is("dpkg", "-i")),
      at(r, is("systemctl", "restart", "amazon-ssm-agent.service")),
      at(r, (e) => e[0] === "apt-get" && e[1] === "install" && e.includes("rsyslog")),
      at(r, (e) => e[0] === "fetch" && e[1] === runtimeUrl),
      at(r, is("aws", "ssm", "get-parameter")),
      at(r, (e) => e[0] === "apt-get" && e.some((a) => a.startsWith("datadog-agent="))),
      at(r, is("systemctl", "restart", "rsyslog.service")),
      at(r, is("deploy")),
      at(r, is("systemctl", "enable", "sample-api.service")),
    ];
    expect(
      order.every((n) => n >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.events[at(r, is("deploy"))]).toEqual([
      "deploy",
      "--source",
      "s3://vm-artifacts/releases/x.js",
      "--sha256",
      "ab".repeat(32),
      "--version",
      "2026.11.25-1",
    ]);
    // the pinned runtime, root-owned and executable, where the unit runs it
    const node = r.file(nodeBinaryPath(nodeRuntime.version));
    expect(node?.mode).toBe(0o755);
    expect(sha(Buffer.from(node!.content, "latin1"))).toBe(sha(fs.readFileSync(runtimeFile)));
    // the agent pinned and held; the packages did not start services during the boot
    expect(r.events).toContainEqual(expect.arrayContaining(["apt-get", "install", "datadog-agent=1:7.84.2-1"]));
    expect(r.events).toContainEqual(["apt-mark", "hold", "datadog-agent"]);
    expect(r.events.filter((e) => e[0] === "policy-rc.d").map((e) => e[1])).toEqual(["101", "101"]);
    expect(r.file("/usr/sbin/policy-rc.d")).toBeUndefined();
    // one journal line per step, and the result
    expect(r.journal.filter((l) => / ok duration=\d+s$/.test(l)).map((l) => l.split(" ")[0])).toEqual(
      ["ssm-agent", "packages", "runtime", "secrets", "datadog-agent", "release"].map((s) => `step=${s}`),
    );
    expect(r.journal.at(-1)).toMatch(/^boot ok: sample-api.service started, release 2026.11.25-1, \d+s/);
    expect(r.journalTags).toEqual(["sample-api-boot"]);
    expect(p.bootScript).toBe("/usr/local/sbin/sample-api-boot");
  });

  it("writes each secret once into a root-only 0600 file; the Papertrail include is valid rsyslog", () => {
    const r = bootService();
    expect(r.status, r.stderr).toBe(0);
    const p = hostPaths("sample-api");
    expect(r.file(p.datadogEnvFile)).toEqual({ content: `DD_API_KEY=${ddKey}\n`, mode: 0o600 });
    const pt = r.file(p.papertrailInclude)!;
    expect(pt.mode).toBe(0o600);
    expect(pt.content).toContain('target="logs9.papertrailapp.com" port="41234"');
    expect([...r.events.flat()].join(" ")).not.toContain(ddKey);
    gtlsDriverPresent();
    const conf = path.join(dir, "check.conf");
    fs.mkdirSync(path.join(dir, "rsyslog-work"), { recursive: true });
    fs.writeFileSync(conf, `global(workDirectory="${dir}/rsyslog-work")\n${pt.content}`);
    const check = run("rsyslogd", ["-N1", "-f", conf]);
    expect(check.status, check.stderr).toBe(0);
  });

  it("lets no key, package or binary in unverified; the check itself catches a boot that skips gpgv", () => {
    const r = bootService();
    expect(r.status, r.stderr).toBe(0);
    expect(r.events.filter((e) => e[0] === "fetch")).toHaveLength(5); // .deb, .sig, 2 Datadog keys, the runtime
    expect(unverified(r, ddFprs, debianPackages)).toEqual([]);
    const skipped = bootService({
      edit: (f, c) => (f.endsWith("-boot") ? c.replace(/^ *gpgv .*$/m, "") : c),
    });
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(unverified(skipped, ddFprs, debianPackages)).toEqual([
      expect.stringMatching(/^used before it was verified: .*amazon-ssm-agent.deb$/),
    ]);
    expect(unverified(r, ddFprs.slice(1), debianPackages)).toEqual([
      expect.stringMatching(/holds a key that is not pinned/),
    ]);
  });

  it("refuses a tampered SSM agent package: nothing installed, the boot fails there, the service stays down", () => {
    const deb = path.join(fx, "dist", "3.3.5226.0", "debian_amd64", "amazon-ssm-agent.deb");
    const good = fs.readFileSync(deb);
    fs.writeFileSync(deb, Buffer.concat([good, Buffer.from("x")]));
    try {
      const r = bootService();
      expect(r.status).not.toBe(0);
      expect(at(r, is("dpkg", "-i"))).toBe(-1);
      expect(r.stderr).toMatch(/BAD signature/);
      expect(r.journal).toContainEqual(expect.stringMatching(/^step=ssm-agent failed duration=\d+s exit=1$/));
      expect(r.journal.at(-1)).toBe("boot failed: sample-api.service stays stopped and disabled");
      expect(r.events.at(-1)).toEqual(["systemctl", "disable", "--now", "sample-api.service"]);
      expect(at(r, is("apt-get"))).toBe(-1);
    } finally {
      fs.writeFileSync(deb, good);
    }
  });

  it("refuses a Datadog key that is not the pinned one: no repository, no agent", () => {
    const other = keys.create("Impostor <x@example.test>");
    const served = path.join(fx, "keys", `DATADOG_APT_KEY_${ddFprs[1]!.slice(-8)}.public`);
    const good = fs.readFileSync(served);
    fs.writeFileSync(served, keys.armored(other));
    try {
      const r = bootService();
      expect(r.status).not.toBe(0);
      expect(r.journal).toContainEqual(`DATADOG_APT_KEY_${ddFprs[1]!.slice(-8)}: not the pinned key ${ddFprs[1]}`);
      expect(r.journal).toContainEqual(expect.stringMatching(/^step=datadog-agent failed/));
      expect(r.file("/etc/apt/sources.list.d/datadog.list")).toBeUndefined();
      expect(at(r, has("datadog-agent="))).toBe(-1);
      expect(at(r, is("deploy"))).toBe(-1);
    } finally {
      fs.writeFileSync(served, good);
    }
  });

  it("refuses a runtime whose sha256 is not the pinned one", () => {
    const r = bootService({}, serviceInput("cd".repeat(32)));
    expect(r.status).not.toBe(0);
    expect(r.journal).toContainEqual(`${runtimeUrl}: sha256 is not ${"cd".repeat(32)}`);
    expect(r.journal).toContainEqual(expect.stringMatching(/^step=runtime failed/));
    expect(r.file(nodeBinaryPath(nodeRuntime.version))).toBeUndefined();
  });

  it("writes the secrets before the agent arrives, whose own start needs them: the other order fails", () => {
    const r = bootService();
    expect(at(r, is("aws", "ssm", "get-parameter"))).toBeLessThan(at(r, has("datadog-agent=")));
    expect(at(r, is("datadog-agent-start-failed"))).toBe(-1);
    // the Datadog step moved before the secrets: the package's own start finds no API key and the boot stops
    const early = bootService({
      edit: (f, c) => {
        if (!f.endsWith("-boot")) return c;
        const step = c.slice(
          c.indexOf("install_datadog_agent() {"),
          c.indexOf("step datadog-agent install_datadog_agent\n") + 42,
        );
        return c.replace(step, "").replace("# --- users and folders ---", `${step}\n# --- users and folders ---`);
      },
    });
    expect(early.status).not.toBe(0);
    expect(at(early, is("datadog-agent-start-failed"))).toBeGreaterThan(-1);
    expect(early.journal).toContainEqual(expect.stringMatching(/^step=datadog-agent failed/));
  });

  it("retries a download with doubling waits, and gives up within its bound", () => {
    const deb = `file://${fx}/dist/3.3.5226.0/debian_amd64/amazon-ssm-agent.deb`;
    const flaky = bootService({ flakyFetches: { [deb]: 2 } });
    expect(flaky.status, flaky.stderr).toBe(0);
    expect(flaky.events.filter(is("curl-attempt", deb))).toHaveLength(3);
    expect(flaky.events.filter((e) => e[0] === "sleep").map((e) => e[1])).toEqual(["2", "4"]);
    const down = bootService({ flakyFetches: { [deb]: 99 } });
    expect(down.status).not.toBe(0);
    expect(down.events.filter(is("curl-attempt", deb))).toHaveLength(5);
    expect(down.events.filter((e) => e[0] === "sleep").map((e) => e[1])).toEqual(["2", "4", "8", "16"]);
    expect(down.journal).toContainEqual("step=ssm-agent gave up after 5 attempts: curl");
  });

  it("fails the boot, unit not enabled, when release 1 does not install", () => {
    const r = bootService({ deployExit: 1 });
    expect(r.status).not.toBe(0);
    expect(r.journal).toContainEqual("release 2026.11.25-1 did not install; sample-api is stopped and not enabled");
    expect(at(r, is("systemctl", "enable", "sample-api.service"))).toBe(-1);
    expect(r.journal).toContainEqual(expect.stringMatching(/^step=release failed/));
  });
});

describe("HAProxy node boot", () => {
  it("starts haproxy last, after the same verified agents and secrets; nothing unverified", () => {
    const r = bootNode();
    expect(r.status, r.stderr).toBe(0);
    expect(r.events.filter(is("systemctl", "restart")).map((e) => e[2])).toEqual([
      "amazon-ssm-agent.service",
      "datadog-agent.service", // the package's own start (the stand-in's postinst), once its API key is there
      "rsyslog.service",
      "logrotate.timer",
      "datadog-agent.service",
      "haproxy.service",
    ]);
    expect(r.events.filter((e) => e[0] === "policy-rc.d").map((e) => e[1])).toEqual(["101", "101"]);
    expect(at(r, (e) => e[0] === "fetch" && e[1]!.startsWith("s3://"))).toBe(-1); // no runtime, no bundle
    expect(unverified(r, ddFprs, debianPackages)).toEqual([]);
  });

  it("never starts haproxy when a step fails (a secret is missing)", () => {
    const r = bootNode({ ssm: {} });
    expect(r.status).not.toBe(0);
    expect(at(r, is("systemctl", "restart", "haproxy.service"))).toBe(-1);
    expect(r.events.at(-1)).toEqual(["systemctl", "disable", "--now", "haproxy.service"]);
    expect(r.journal).toContainEqual(expect.stringMatching(/^step=secrets failed/));
  });
});

describe("boot script text", () => {
  it("passes shellcheck for both host kinds", () => {
    const files = (parse(nodeUserData()) as { write_files: { path: string; content: string }[] }).write_files;
    for (const [name, text] of [
      ["service", renderBootScript(sampleInput())],
      ["node", files.find((f) => f.path === hostPaths("haproxy").bootScript)!.content],
    ] as const) {
      const f = path.join(dir, `${name}.sh`);
      fs.writeFileSync(f, text);
      const r = run("shellcheck", ["-s", "bash", f]);
      expect(r.stdout + r.stderr, name).toBe("");
    }
  });

  it("moves Debian's mirrors to https (egress is HTTPS only) and leaves other sources alone", () => {
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
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(list, "utf8")).toBe(
      "deb https://cdn-aws.deb.debian.org/debian bookworm main\ndeb https://security.debian.org/debian-security bookworm-security main\ndeb http://example.org/x bookworm main\n",
    );
    expect(fs.readFileSync(deb822, "utf8")).toContain("URIs: https://deb.debian.org/debian\n");
  });
});
