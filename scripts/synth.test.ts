// `npm run synth` and `npm run synth:diff` over real runs of the dev stack program through the stand-in engine:
// two runs of the CLI (byte-identical output), and one run of a changed config (the review summary between them).
// Three program runs in all; the pure parts are tested in scripts/synth/*.test.ts.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256File } from "../contract/digest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHostFiles } from "../host/files";
import { renderUserData } from "../host/userData";
import { loadStack } from "../infra/config";
import { hostInputOf, runtimeWhere } from "../infra/host-input";
import { secretMarker } from "../test/support/stack-config";
import { main as diffMain } from "./synth-diff";
import { compareStates } from "./synth/compare";
import { readSynth, writeSynth } from "./synth/files";
import { SECRET, SynthFiles, SynthResource } from "./synth/model";
import { summarize } from "./synth/summary";
import { synthesize } from "./synth/synthesize";

const root = path.resolve(__dirname, "..");
const bundle = path.join(root, "dist/app/server.js");
/** A config change a reviewer would meet: bigger instances, another port, a NAT gateway per AZ. */
const changed = { instanceType: "t3.medium", port: 3001, natGatewayPerAz: true };
let tmp: string;
let a: SynthFiles;
let b: SynthFiles;
let cli: { code: number | null; stdout: string; stderr: string }[];

function synthCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The script as package.json's "synth" runs it (after its build step), as a real process.
  const child = spawn(path.join(root, "node_modules/.bin/ts-node"), ["--transpile-only", "scripts/synth.ts", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A second checkout of the project (as CI checks out the base beside the head): tracked and new files, the bundle. */
function copyCheckout(to: string): void {
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && fs.existsSync(path.join(root, f)) && fs.statSync(path.join(root, f)).isFile());
  for (const f of [...files, "dist/app/server.js"]) {
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(to, f));
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(to, "node_modules"));
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synth-test-"));
  if (!fs.existsSync(bundle)) execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root });
  copyCheckout(path.join(tmp, "checkout"));
  const [one, two, changedFiles] = await Promise.all([
    synthCli(["--stack", "dev", "--out", path.join(tmp, "one")]),
    // this checkout's tooling over the other checkout, as CI synthesizes the base
    synthCli(["--stack", "dev", "--root", path.join(tmp, "checkout"), "--out", path.join(tmp, "two")]),
    synthesize({ stack: "dev", overrides: changed }),
  ]);
  cli = [one!, two!];
  b = changedFiles;
  writeSynth(b, path.join(tmp, "changed"));
  if (one!.code === 0) a = readSynth(path.join(tmp, "one"));
}, 600_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const resources = (f: SynthFiles) => JSON.parse(f.get("resources.json")!) as SynthResource[];
const named = (f: SynthFiles, type: string, name: string) =>
  resources(f).find((r) => r.type === type && r.name === name)!;

describe("npm run synth", () => {
  it("is the script package.json names, after the bundle build", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.scripts.synth).toBe("npm run -s build && ts-node --transpile-only scripts/synth.ts");
    expect(pkg.scripts["synth:diff"]).toBe("ts-node --transpile-only scripts/synth-diff.ts");
  });

  it("writes the same bytes on two runs in two checkouts, with no path of this machine in them", () => {
    for (const r of cli)
      expect([r.code, r.stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, "")]).toEqual([0, ""]);
    expect(cli[0]!.stdout).toMatch(/^synthesized dev: \d+ resources, \d+ host files -> /);
    const two = readSynth(path.join(tmp, "two"));
    expect([...two.keys()]).toEqual([...a.keys()]);
    for (const [p, text] of a) expect(two.get(p), p).toBe(text);
    for (const [p, text] of a) expect([p, text.includes(root) || text.includes(tmp)]).toEqual([p, false]);
  });

  it("records every resource with type, name, URN, parent, options and inputs, sorted by URN", () => {
    const rs = resources(a);
    expect(rs.length).toBeGreaterThan(60);
    expect(rs.map((r) => r.urn)).toEqual(rs.map((r) => r.urn).sort());
    const stack = rs.find((r) => r.type === "pulumi:pulumi:Stack")!;
    expect(stack.urn).toBe("urn:pulumi:dev::node-service-aws::pulumi:pulumi:Stack::node-service-aws-dev");
    const urns = new Set(rs.map((r) => r.urn));
    for (const r of rs) if (r !== stack) expect(urns.has(r.parent), r.urn).toBe(true);
    const release = named(a, "aws:s3/bucketObjectv2:BucketObjectv2", "sample-api-release");
    expect(release.options).toMatchObject({ protect: false, retainOnDelete: true });
    // By content, as the engine diffs it: the bundle's own sha256, whatever path it was read from.
    expect(release.inputs.source).toEqual({ asset: "file", sha256: sha256File(bundle) });
    expect(release.options.dependsOn!.length).toBeGreaterThan(0);
    const asg = named(a, "aws:autoscaling/group:Group", "sample-api-asg");
    expect(asg.options.ignoreChanges).toEqual(["desiredCapacity", "initialLifecycleHooks"]);
    expect(asg.inputs.instanceRefresh).toMatchObject({ strategy: "Rolling" });
    // Components carry an alias to their former type token.
    const fleet = rs.find((r) => r.type === "node-service-aws:index:Fleet")!;
    expect(fleet.options.aliases).toContain("urn:pulumi:dev::node-service-aws::node-service:fleet:Fleet::sample-api");
  });

  it("masks the secrets in inputs and config, and never writes their values", () => {
    const params = resources(a).filter((r) => r.type === "aws:ssm/parameter:Parameter");
    expect(params.map((p) => p.inputs.value)).toEqual([SECRET, SECRET]);
    const config = JSON.parse(a.get("config.json")!);
    expect([config["node-service-aws:datadogApiKey"], config["node-service-aws:papertrailDestination"]]).toEqual([
      SECRET,
      SECRET,
    ]);
    for (const key of ["datadogApiKey", "papertrailDestination"])
      for (const [p, text] of a) expect(text.includes(secretMarker(key)), p).toBe(false);
  });

  it("writes every host file at its host path, as the stack's renderer makes it from the stack's config", () => {
    const lt = named(a, "aws:ec2/launchTemplate:LaunchTemplate", "sample-api-lt");
    expect(lt.inputs.userData).toMatch(/^\[user-data: hosts\/sample-api-lt\/, sha256 [0-9a-f]{64}\]$/);
    const { config, region } = loadStack("dev", root);
    const release = named(a, "aws:s3/bucketObjectv2:BucketObjectv2", "sample-api-release");
    const bundleUrl: string = JSON.parse(a.get("outputs.json")!).bundleUrl;
    const input = hostInputOf(config, {
      region,
      bundleUrl,
      bundleSha256: (release.inputs.source as { sha256: string }).sha256,
      ...runtimeWhere(config, bundleUrl.split("/")[2]!),
    });
    const rendered = renderHostFiles(input);
    expect(rendered.length).toBeGreaterThan(8);
    for (const f of rendered) expect(a.get(`hosts/sample-api-lt${f.path}`), f.path).toBe(f.content);
    const hostFiles = [...a.keys()].filter((p) => p.startsWith("hosts/") && !p.endsWith("/cloud-config.yaml"));
    expect(hostFiles.sort()).toEqual(rendered.map((f) => `hosts/sample-api-lt${f.path}`).sort());
    // The cloud-config keeps owners, modes and the boot command; each content is the file's sha256.
    const skeleton = a.get("hosts/sample-api-lt/cloud-config.yaml")!;
    expect(skeleton).toContain(lt.urn);
    expect(skeleton).toContain(`runcmd:\n  - - /usr/local/sbin/sample-api-boot`);
    expect(renderUserData(input).length).toBeGreaterThan(skeleton.length);
  });

  it("writes a dynamic provider's code as a file, not as an input", () => {
    const guard = resources(a).find((r) => r.type === "pulumi-nodejs:dynamic:InstanceRefreshGuard")!;
    const [, file] = /^\[dynamic provider code: (\S+),/.exec(String(guard.inputs.__provider))!;
    expect(a.get(file!)).toMatch(/^exports\.handler = /);
  });
});

describe("npm run synth:diff", () => {
  it("summarizes a config change: added, changed (which inputs), replaced, grouped by type, with host file diffs", () => {
    const text = diffMain([path.join(tmp, "one"), path.join(tmp, "changed"), "--out", path.join(tmp, "summary.md")]);
    expect(fs.readFileSync(path.join(tmp, "summary.md"), "utf8")).toBe(text);
    expect(text).toContain("### Desired state: stack `dev`");
    expect(text).toMatch(
      /\*\*2 to add, 5 to change, 1 to replace, 0 to remove\*\* \(\d+ unchanged\); 5 host or provider files changed\./,
    );
    const section = (type: string) => text.split(`\`${type}\`\n\n`)[1]!.split("\n\n")[0]!;
    expect(section("aws:ec2/natGateway:NatGateway")).toBe("- **add** `sample-api-nat-1`");
    expect(section("aws:ec2/eip:Eip")).toBe("- **add** `sample-api-nat-1`");
    expect(section("aws:ec2/launchTemplate:LaunchTemplate")).toMatch(
      /^- \*\*change\*\* `sample-api-lt`; inputs `instanceType`, `userData`\n {2}- `instanceType: "t3.small" → "t3.medium"`/,
    );
    expect(section("aws:lb/targetGroup:TargetGroup")).toMatch(
      /^- \*\*replace\*\* `sample-api-tg`; inputs `port`; replaced because of `port`\n {2}- `port: 3000 → 3001`\n {2}- created before the old one is deleted\n {2}- its new id and ARN reach sample-api-http,/,
    );
    expect(section("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toContain("`fromPort: 3000 → 3001`");
    expect(section("aws:autoscaling/group:Group")).toBe(
      "- **change (options only)** `sample-api-asg`; options `dependsOn`\n  - `dependsOn: + aws:ec2/natGateway:NatGateway::sample-api-nat-1`",
    );
    expect(text).toContain("| `node-service-aws:port` | `3000` | `3001` |");
    expect(text).toContain(
      "<details><summary><code>hosts/sample-api-lt/etc/sample-api/sample-api.env</code> (changed)</summary>",
    );
    expect(text).toContain(
      "--- a/hosts/sample-api-lt/etc/sample-api/sample-api.env\n+++ b/hosts/sample-api-lt/etc/sample-api/sample-api.env\n@@ -1,5 +1,5 @@\n # /etc/sample-api/sample-api.env: non-secret settings of the service, rendered by host/files.ts.\n-PORT=3000\n+PORT=3001\n",
    );
  });

  it("lists what the reverse change removes", () => {
    const text = summarize(compareStates(b, a));
    expect(text).toMatch(/\*\*0 to add, 5 to change, 1 to replace, 2 to remove\*\*/);
    expect(text).toContain("`aws:ec2/natGateway:NatGateway`\n\n- **remove** `sample-api-nat-1`");
  });

  it("reports nothing between two runs of the same config", () => {
    expect(summarize(compareStates(a, readSynth(path.join(tmp, "two"))))).toMatch(
      /\*\*0 to add, 0 to change, 0 to replace, 0 to remove\*\* \(\d+ unchanged\); 0 host or provider files changed\./,
    );
  });

  it("stays under --max-chars by leaving file diffs out, and says so", () => {
    const full = summarize(compareStates(a, b));
    const short = diffMain([path.join(tmp, "one"), path.join(tmp, "changed"), "--max-chars", "4000"]);
    expect(full.length).toBeGreaterThan(4000);
    expect(short.length).toBeLessThanOrEqual(4000);
    expect(short).toMatch(/\d+ file diffs left out to stay under 4000 characters: see the synth-diff artifact\./);
    expect(short).toContain("**2 to add, 5 to change, 1 to replace, 0 to remove**");
  });
});
