// `pulumi preview` and `pulumi up` of every stack program (dev and prod, ALB and HAProxy flavors) through
// @pulumi/pulumi's own entry point (cmd/run), launched with the arguments and environment
// pulumi-language-nodejs gives it, against the stand-in engine of test/support/engine/ (no CLI, no provider, no
// network). Then a second release of each: the two recorded graphs are compared by URN. The setMocks tests
// (stack.test.ts, components) stay for fast property checks; this file checks what only a real run shows:
// the program directory is infra/ (Pulumi.yaml `main`), the runtime's TypeScript setup, the wire.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimePaths } from "../components/bundle/rules";
import { nodeRuntime } from "../contract/runtime";
import { Graph, Node, ReleasePolicy, checkRelease, hasUnknowns } from "../test/support/engine/graph";
import { RunResult, explain, runProgram } from "../test/support/engine/launch";
import { replacement } from "../test/support/engine/replacement";
import { projectRoot as root } from "../test/support/stack-config";
import { clearTextPaths, isSecretOnWire } from "../test/support/wire";

const programs = [
  ["dev", "alb"],
  ["dev", "haproxy"],
  ["prod", "alb"],
  ["prod", "haproxy"],
] as const;
const RELEASE = "aws:s3/bucketObjectv2:BucketObjectv2";
const [releaseObject, runtimeObject] = ["sample-api-release", "sample-api-runtime"];
const SDK_DEBUG_LEAK =
  /^RegisterResource RPC finished: resource:[\w-]+\[aws:ssm\/parameter:Parameter\]; err: null, resp: /;
const defaultBundle = path.join(root, "dist/app/server.js");
/** What a release may change: the release object (its key is the content hash) and the rollout after it. */
const releasePolicy: ReleasePolicy = {
  allowed: {
    [RELEASE]: { steps: ["replace"], inputs: ["key", "source"] },
    "aws:ec2/launchTemplate:LaunchTemplate": { steps: ["update"], inputs: ["userData"] },
    "aws:autoscaling/group:Group": { steps: ["update"], inputs: ["launchTemplate"] },
    "aws:ssm/association:Association": { steps: ["update"], inputs: ["parameters"] },
    // the fleet's guard and waiter re-run for each launch template version: `pulumi up` waits for the refresh
    "pulumi-nodejs:dynamic:InstanceRefreshGuard": { steps: ["update"], inputs: ["launchTemplateVersion"] },
    "pulumi-nodejs:dynamic:InstanceRefreshWaiter": { steps: ["update"], inputs: ["launchTemplateVersion"] },
  },
  allowedOutputs: ["key", "sha256", "url", "bundleUrl", "launchTemplateVersion", "releasedLaunchTemplateVersion"],
};

interface Runs {
  preview: RunResult;
  update: RunResult;
  release2?: RunResult;
  probe: string;
}
const runs = new Map<string, Runs>();
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
let tmp: string;
let release1Sha: string;
let release2File: string;
let harnessMs = 0;
let buildMs = 0;

/** Runs the tasks at most `n` at a time (2 cores: a program run is one busy core). */
async function pool(tasks: (() => Promise<void>)[], n: number): Promise<void> {
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t; t = queue.shift()) await t();
    }),
  );
}

beforeAll(async () => {
  const started = performance.now();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "program-test-"));
  // The default bundlePath is what `pulumi up` reads: build it when missing, so the default path is exercised.
  if (!fs.existsSync(defaultBundle)) {
    execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
    buildMs = performance.now() - started;
  }
  const content = fs.readFileSync(defaultBundle);
  release1Sha = sha256(content);
  release2File = path.join(tmp, "release-2", "server.js");
  fs.mkdirSync(path.dirname(release2File));
  fs.writeFileSync(release2File, Buffer.concat([content, Buffer.from("\n// release 2\n")]));
  const probeScript = path.join(root, "test/support/engine/tsnode-probe.cjs");
  await pool(
    programs.map(([stack, lb]) => async () => {
      const overrides = lb === "alb" ? {} : { loadBalancer: lb };
      const probe = path.join(tmp, `${stack}-${lb}-tsnode.json`);
      // One run per program type-checks (the runtime's default); the others skip it as users do.
      const preview = await runProgram({
        stack,
        dryRun: true,
        typecheck: true,
        overrides,
        env: {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${probeScript}`.trim(),
          TSNODE_PROBE_OUT: probe,
        },
      });
      const update = await runProgram({ stack, dryRun: false, typecheck: false, overrides });
      const release2 =
        update.code === 0
          ? await runProgram({
              stack,
              dryRun: false,
              typecheck: false,
              overrides: { ...overrides, bundlePath: release2File },
              prior: update.engine.graph,
            })
          : undefined;
      runs.set(`${stack}/${lb}`, { preview, update, release2, probe });
    }),
    2,
  );
  harnessMs = performance.now() - started;
}, 600_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  const rows = programs.flatMap(([s, l]) => {
    const r = runs.get(`${s}/${l}`);
    return r
      ? ([
          [`${s}/${l} preview (type-checked)`, r.preview],
          [`${s}/${l} update`, r.update],
          [`${s}/${l} release 2`, r.release2],
        ] as const)
      : [];
  });
  const wall = rows.reduce((a, [, r]) => a + (r?.ms ?? 0), 0) / 1000;
  const cpu = rows.reduce((a, [, r]) => a + (r?.cpuSeconds ?? 0), 0);
  const cores = os.availableParallelism();
  console.log(
    [
      `stand-in engine runs, load average ${os.loadavg()[0]!.toFixed(1)} on ${cores} cores:`,
      `  ${"program run".padEnd(36)} ${"wall".padStart(8)} ${"CPU".padStart(8)}`,
      ...rows.map(
        ([label, r]) =>
          `  ${label.padEnd(36)} ${((r?.ms ?? 0) / 1000).toFixed(1).padStart(6)} s ${(r?.cpuSeconds ?? 0).toFixed(1).padStart(6)} s`,
      ),
      `  sum of runs ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU (on ${cores} idle cores about ${(cpu / cores).toFixed(1)} s)`,
      `  harness wall time ${(harnessMs / 1000).toFixed(1)} s, 2 runs at a time${buildMs ? `, the bundle build included (${(buildMs / 1000).toFixed(1)} s)` : ""}`,
    ].join("\n"),
  );
});

const get = (stack: string, lb: string) => runs.get(`${stack}/${lb}`)!;
const urns = (r: RunResult) => [...r.engine.graph.nodes.keys()].sort();
const stackOutputs = (r: RunResult) => r.engine.graph.outputs.get(r.engine.rootUrn) ?? {};
const ofType = (g: Graph, type: string): Node[] => [...g.nodes.values()].filter((n) => n.type === type);
/** The one resource of a type (and name, where a type has several: the release and the runtime objects). */
const one = (g: Graph, type: string, name?: string): Node => {
  const found = ofType(g, type).filter((n) => name === undefined || n.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
};

describe.each(programs)("%s stack, %s flavor, through cmd/run", (stack, lb) => {
  it("previews and updates with exit 0, registering the stack's resources and exporting its outputs", () => {
    const { preview, update } = get(stack, lb);
    expect(preview.code, explain(preview)).toBe(0);
    expect(update.code, explain(update)).toBe(0);
    for (const r of [preview, update]) {
      expect(r.engine.rootUrn).toBe(
        `urn:pulumi:${stack}::node-service-aws::pulumi:pulumi:Stack::node-service-aws-${stack}`,
      );
      expect(r.engine.shutdownSignaled, "SignalAndWaitForShutdown comes only after a clean run").toBe(true);
    }
    expect(urns(preview)).toEqual(urns(update));
    // The URNs the mocks recorded before the redesign: each one is still registered (or aliased). The mocks put
    // the stack's type into top-level URNs (runtime/mocks.js newUrn); the engine leaves it out (deployment.go
    // generateURN skips RootStackType), so those are compared in the engine's form.
    const fixture: string[] = JSON.parse(fs.readFileSync(path.join(root, "test/fixtures/urns.json"), "utf8"))[
      `${stack}/${lb}`
    ];
    const answered = new Set([...update.engine.graph.nodes.values()].flatMap((n) => [n.urn, ...n.options.aliases]));
    // Resources deleted on purpose are listed, with why, in test/fixtures/retired-urns.json (test/urns.test.ts).
    const retired = new Set(
      (
        JSON.parse(fs.readFileSync(path.join(root, "test/fixtures/retired-urns.json"), "utf8")) as { urn: string }[]
      ).map((r) => r.urn),
    );
    expect(
      fixture.map((u) => u.replace("::pulumi:pulumi:Stack$", "::")).filter((u) => !answered.has(u) && !retired.has(u)),
    ).toEqual([]);
    const outputs = stackOutputs(update);
    // Dev has no domain: its URL is the load balancer's, with a note saying so; prod's is its domain (infra/stack.ts serviceAddress).
    const names = [
      "bundleUrl",
      "dashboardUrl",
      "imageId",
      "loadBalancerDnsName",
      "logSearchUrl",
      "serviceUrl",
      ...(stack === "dev" ? ["serviceUrlNote"] : []),
    ];
    expect(Object.keys(outputs).sort()).toEqual(lb === "alb" ? ["autoScalingGroupName", ...names].sort() : names);
    expect(outputs.serviceUrl).toMatch(
      stack === "prod"
        ? /^https:\/\/api\.example\.com$/
        : /^http:\/\/sample-api[\w-]*\.us-east-1\.elb\.amazonaws\.com$/,
    );
    expect(hasUnknowns(outputs)).toBe(false);
    expect(hasUnknowns(stackOutputs(preview)), "a preview leaves computed outputs unknown").toBe(true);
  });

  it("uploads the project root's dist/app/server.js (the default bundlePath) although the program runs in infra/", () => {
    const { update } = get(stack, lb);
    expect(update.programDir).toBe(path.join(root, "infra"));
    const object = one(update.engine.graph, RELEASE, releaseObject);
    expect(object.inputs.key).toBe(`releases/${release1Sha}.js`);
    expect(object.inputs.source).toMatchObject({ hash: release1Sha, path: defaultBundle });
    expect(stackOutputs(update).bundleUrl).toMatch(new RegExp(`^s3://[\\w-]+/releases/${release1Sha}\\.js$`));
    // Beside it, the pinned Node under its sha256 (t3.small, m7i.large: x64), from the project root too.
    const runtime = one(update.engine.graph, RELEASE, runtimeObject);
    expect(runtime.inputs.key).toBe(`runtimes/${nodeRuntime.sha256.x64}`);
    expect(runtime.inputs.source).toMatchObject({ hash: nodeRuntime.sha256.x64 });
    expect(runtimePaths("x64").map((p) => path.join(root, p))).toContain(
      (runtime.inputs.source as { path: string }).path,
    );
  });

  it("never puts a secret value in clear text on the wire, in a log or on the console", () => {
    const all = Object.values(get(stack, lb)).filter((r): r is RunResult => typeof r === "object" && !!r);
    for (const r of all) {
      expect(r.markers).toHaveLength(2);
      for (const marker of r.markers) {
        const leaks = r.engine.received
          .filter(({ what }) => what !== "Log")
          .flatMap(({ what, payload }) => clearTextPaths(payload, marker).map((p) => `${what} ${p}`));
        expect(leaks).toEqual([]);
        expect(r.stdout + r.stderr).not.toContain(marker);
        // Known SDK leak (3.248.0 runtime/resource.js): its DEBUG line after each registration prints the whole
        // response, secret outputs included, so `pulumi up --debug` shows the SSM parameters' values. Nothing
        // else may: no other line, and nothing at INFO or above.
        const logged = r.engine.logs.filter((l) => l.message.includes(marker));
        expect(
          logged.filter((l) => l.severity !== 0 || !SDK_DEBUG_LEAK.test(l.message)).map((l) => l.message.slice(0, 120)),
        ).toEqual([]);
      }
      // The positive control: the secrets did cross the wire, wrapped.
      const params = ofType(r.engine.graph, "aws:ssm/parameter:Parameter");
      expect(params.map((p) => isSecretOnWire(p.inputs, "value"))).toEqual([true, true]);
    }
  });

  it("calls only invokes the stand-in answers, no RPC it leaves unimplemented, and asks the known features", () => {
    for (const r of Object.values(get(stack, lb)).filter((x): x is RunResult => typeof x === "object" && !!x)) {
      expect(r.engine.invokes.filter((i) => !i.answered).map((i) => i.tok)).toEqual([]);
      expect([r.engine.unimplemented, r.engine.errors]).toEqual([[], []]);
      expect(r.engine.invokes.length).toBeGreaterThan(0);
      // What 3.248.0 asks at startup (settings.js awaitFeatureSupport); a new id needs a decision here.
      expect([...new Set(r.engine.features)].sort()).toEqual([
        "aliasSpecs",
        "deletedWith",
        "errorHooks",
        "invokeTransforms",
        "outputValues",
        "parameterization",
        "replaceWith",
        "resourceHooks",
        "resourceReferences",
        "secrets",
        "transforms",
      ]);
    }
  });

  it("type-checks the program with the project's compiler settings, found from main (infra/)", () => {
    const { preview, probe } = get(stack, lb);
    expect(preview.engine.logs.some((l) => l.message.includes(`in pwd '${path.join(root, "infra")}'`))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    // The project's pinned typescript and ts-node, not the runtime's vendored 3.8.3 / 7.0.1.
    expect(
      preview.engine.logs.some((l) =>
        l.message.startsWith(`Found typescript version ${pkg.devDependencies.typescript} `),
      ),
    ).toBe(true);
    expect(
      preview.engine.logs.some((l) =>
        l.message.startsWith(`Found ts-node version: ${pkg.devDependencies["ts-node"]} `),
      ),
    ).toBe(true);
    const seen = JSON.parse(fs.readFileSync(probe, "utf8"));
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(root, "tsconfig.json"),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!;
    const expected = Object.fromEntries(Object.keys(seen.options ?? {}).map((k) => [k, parsed.options[k]]));
    expect({
      registered: seen.registered,
      transpileOnly: seen.transpileOnly,
      configFilePath: seen.configFilePath,
    }).toEqual({ registered: true, transpileOnly: false, configFilePath: path.join(root, "infra/tsconfig.json") });
    expect(seen.options).toEqual(expected);
    expect(seen.strictProbe, "noUncheckedIndexedAccess must reject `const first: number = xs[0]`").toBe("2322");
  });
});

describe.each(programs)("%s stack, %s flavor: release 2 after release 1", (stack, lb) => {
  it("replaces only the release object, never deletes the previous one, and rolls out from it", () => {
    const { update, release2 } = get(stack, lb);
    expect(release2?.code, release2 && explain(release2)).toBe(0);
    const before = update.engine.graph;
    const after = release2!.engine.graph;
    const verdict = checkRelease(before, after, releasePolicy);
    expect(verdict.protectedReplacements, "(a) a protected resource would be replaced").toEqual([]);
    expect(verdict.deletions, "(b) something a running instance or a rollback reads would be deleted").toEqual([]);
    expect(verdict.unexpected, "(c) changes beyond the release and its rollout").toEqual([]);
    const steps = verdict.changes.map((c) => `${c.step} ${c.type}`).sort();
    expect(steps).toEqual(
      (lb === "alb"
        ? [
            `replace ${RELEASE}`,
            "update aws:autoscaling/group:Group",
            "update aws:ec2/launchTemplate:LaunchTemplate",
            "update pulumi-nodejs:dynamic:InstanceRefreshGuard",
            "update pulumi-nodejs:dynamic:InstanceRefreshWaiter",
          ]
        : [`replace ${RELEASE}`, "update aws:ssm/association:Association"]
      ).sort(),
    );
    const release1Object = one(before, RELEASE, releaseObject);
    const release2Object = one(after, RELEASE, releaseObject);
    expect(release2Object.inputs.key).toBe(`releases/${sha256(fs.readFileSync(release2File))}.js`);
    // Retained: the engine skips the delete of the replaced object, reading the OLD state's flag.
    expect([release1Object.retainOnDelete, release1Object.options.retainOnDelete]).toEqual([true, true]);
    if (lb === "alb") {
      const v1 = Number(one(before, "aws:ec2/launchTemplate:LaunchTemplate").outputs.latestVersion);
      expect(one(after, "aws:ec2/launchTemplate:LaunchTemplate").outputs.latestVersion).toBe(v1 + 1);
      expect(one(after, "aws:autoscaling/group:Group").inputs.launchTemplate).toMatchObject({
        version: String(v1 + 1),
      });
    }
  });

  it(
    stack === "prod" ? "keeps the stateful resources protected and the release object not" : "protects nothing in dev",
    () => {
      const g = get(stack, lb).update.engine.graph;
      const protectedTypes = [
        ...new Set([...g.nodes.values()].filter((n) => n.custom && n.protect).map((n) => n.type)),
      ].sort();
      expect(protectedTypes).toEqual(
        stack === "prod"
          ? [
              "aws:kms/alias:Alias",
              "aws:kms/key:Key",
              "aws:s3/bucket:Bucket",
              "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
              "aws:s3/bucketLogging:BucketLogging",
              "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
              "aws:s3/bucketPolicy:BucketPolicy",
              "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
              "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketVersioning:BucketVersioning",
              "aws:ssm/parameter:Parameter",
              ...(lb === "alb"
                ? [
                    "aws:ec2/securityGroup:SecurityGroup",
                    "aws:lb/listener:Listener",
                    "aws:lb/loadBalancer:LoadBalancer",
                    "aws:lb/targetGroup:TargetGroup",
                    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                  ]
                : []),
            ].sort()
          : [],
      );
      // Sent explicitly, so it does not inherit the Bundle component's protect.
      expect(one(g, RELEASE, releaseObject).options).toMatchObject({ protect: false, retainOnDelete: true });
      expect(one(g, RELEASE, runtimeObject).options).toMatchObject({ protect: false, retainOnDelete: true });
    },
  );
});

it("has a replacement entry, with its provider page, for every type the programs register", () => {
  const types = new Set(
    [...runs.values()].flatMap((r) => [...r.update.engine.graph.nodes.values()].map((n) => n.type)),
  );
  expect(types.size).toBeGreaterThan(40);
  expect([...types].filter((t) => !replacement[t]).sort()).toEqual([]);
  for (const t of types) {
    expect(replacement[t]!.doc, t).toMatch(/^https:\/\/www\.pulumi\.com\//);
    if (replacement[t]!.basis !== "component" && !t.startsWith("pulumi-nodejs:dynamic:"))
      expect(replacement[t]!.upstream, t).toMatch(/^https:\/\/registry\.terraform\.io\/providers\//);
  }
});
