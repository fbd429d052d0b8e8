// Every policy of the pack over the stack's own resource graphs, dev and prod in both flavors, as the CLI hands
// them to the pack (policy/test/graphs.ts: the real program through the stand-in engine; policy/test/args.ts: the
// analyzer server's arguments). Prod passes every rule. Dev runs with the pack config env=dev, under which the
// prod-only rules say they do not apply; the same dev graphs judged as prod show those rules are not idle there.
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, prodOnly } from "./pack";
import type { PackPolicy } from "./pack";
import { Outcome, ResourceSpec, runPolicy } from "./test/args";
import { PolicyGraph, policyGraphs } from "./test/graphs";
import { ServedPack, cliConfig, levelName, servePack } from "./test/served";

let graphs: Map<string, PolicyGraph>;
beforeAll(async () => {
  graphs = await policyGraphs();
}, 300_000);

/** A policy over a graph as the CLI runs it: a resource policy on the registered inputs, a stack policy on the state. */
const judge = (p: PackPolicy, g: PolicyGraph, config: object): Promise<Outcome> =>
  runPolicy(p, "validateStack" in p ? g.state : g.registered, config);

const shown = (o: Outcome) => o.violations.map((v) => `${v.urn?.split("::").pop()}: ${v.message}`);

/**
 * Violations the pack found in the stack itself, reported for a fix in components/ (outside this folder), by
 * graph and policy. Each entry is expected exactly, so the test fails the day the stack is fixed: then delete it.
 */
const STACK_FINDINGS: Record<string, Record<string, string[]>> = {};

describe.each(["alb", "haproxy"])("prod, %s flavor", (flavor) => {
  it.each(policies.map((p) => [p.name, p] as const))("%s: no violation", async (_, p) => {
    const o = await judge(p, graphs.get(`prod/${flavor}`)!, {});
    expect(shown(o)).toEqual(STACK_FINDINGS[`prod/${flavor}`]?.[p.name] ?? []);
    expect(o.notApplicable).toBeUndefined();
  });
});

/** Policies that judge a value only the update makes known: policy documents and user-data naming new ARNs. */
const NOT_IN_PREVIEW = [
  "s3-bucket-private",
  "s3-bucket-tls-only",
  "kms-key-policies",
  "no-wildcard-secret-reads",
  "user-data-no-secrets",
];

describe.each(["alb", "haproxy"])("prod, %s flavor, `pulumi preview` of a new stack", (flavor) => {
  it("every policy runs on what is known and finds the same; the SDK reports the rest as not runnable in preview", async () => {
    const g = graphs.get(`prod/${flavor} preview`)!;
    const cannot: string[] = [];
    for (const p of policies) {
      const o = await judge(p, g, {});
      expect(shown(o), p.name).toEqual(STACK_FINDINGS[`prod/${flavor}`]?.[p.name] ?? []);
      if (o.unknown !== undefined) cannot.push(p.name);
    }
    expect(cannot).toEqual(NOT_IN_PREVIEW);
  });
});

describe.each(["alb", "haproxy"])("dev, %s flavor", (flavor) => {
  const g = () => graphs.get(`dev/${flavor}`)!;
  it.each(policies.filter((p) => !prodOnly.includes(p.name)).map((p) => [p.name, p] as const))(
    "%s: no violation",
    async (_, p) => {
      expect(shown(await judge(p, g(), { env: "dev" }))).toEqual([]);
    },
  );

  it("skips the prod-only rules, which would find dev's smaller, unprotected, HTTP-only setup", async () => {
    const skipped: string[] = [];
    const wouldFind: string[] = [];
    for (const p of policies.filter((x) => prodOnly.includes(x.name))) {
      const dev = await judge(p, g(), { env: "dev" });
      if (dev.notApplicable !== undefined && dev.violations.length === 0) skipped.push(p.name);
      if ((await judge(p, g(), { env: "prod" })).violations.length > 0) wouldFind.push(p.name);
    }
    expect(skipped).toEqual(["fleet-spread", "public-listeners-https", "deletion-protection"]);
    expect(wouldFind).toEqual(skipped);
  });
});

it("the graphs hold what the rules read (so a passing rule is not a rule that found nothing)", () => {
  const types = (specs: ResourceSpec[]) => new Set(specs.map((s) => s.type));
  const prodAlb = types(graphs.get("prod/alb")!.state);
  const prodHaproxy = types(graphs.get("prod/haproxy")!.state);
  for (const t of [
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:autoscaling/group:Group",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/listener:Listener",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "pulumi-nodejs:dynamic:InstanceRefreshGuard",
  ])
    expect(prodAlb).toContain(t);
  for (const t of ["aws:ec2/instance:Instance", "aws:ssm/association:Association"]) expect(prodHaproxy).toContain(t);
});

describe("the rules follow the real graph's links (prod, alb, changed one thing at a time)", () => {
  type Change = (s: ResourceSpec) => ResourceSpec | undefined;
  /** The prod ALB state with `change` applied to the resources `pick` selects (undefined drops the resource). */
  const changed = (pick: (s: ResourceSpec) => boolean, change: Change) =>
    graphs.get("prod/alb")!.state.flatMap((s) => (pick(s) ? (change(s) ?? []) : [s]));
  const named = (name: string, type: string) => (s: ResourceSpec) => s.name === name && s.type === type;
  const without = (s: ResourceSpec, key: string): ResourceSpec => ({
    ...s,
    props: { ...s.props, [key]: [] },
    propertyDependencies: { ...s.propertyDependencies, [key]: [] },
  });
  const policy = (name: string) => policies.find((p) => p.name === name)!;
  const violations = async (name: string, specs: ResourceSpec[]) => shown(await runPolicy(policy(name), specs, {}));

  it("no-open-ingress: 80/443 from anywhere are the load balancer's only while it uses that group", async () => {
    const specs = changed(named("sample-api", "aws:lb/loadBalancer:LoadBalancer"), (s) => without(s, "securityGroups"));
    expect(await violations("no-open-ingress", specs)).toEqual([
      expect.stringMatching(
        /^sample-api-lb-80-0: admits anywhere \(tcp 80-80\) into sample-api-lb that no internet-facing/,
      ),
      expect.stringMatching(/^sample-api-lb-443-0: admits anywhere \(tcp 443-443\) into sample-api-lb that no/),
    ]);
  });

  it("service-alarms: the load balancer's healthy-host alarm is found through its dimensions", async () => {
    const specs = changed(named("sample-api-healthy-hosts", "aws:cloudwatch/metricAlarm:MetricAlarm"), () => undefined);
    expect(await violations("service-alarms", specs)).toEqual([
      "sample-api: no alarm on the load balancer's healthy host count",
    ]);
  });

  it("s3-bucket-versioned: a bucket's versioning resource is found through its bucket reference", async () => {
    const specs = changed(named("sample-api-versioning", "aws:s3/bucketVersioning:BucketVersioning"), () => undefined);
    expect(await violations("s3-bucket-versioned", specs)).toEqual(["sample-api-bucket: versioning is not enabled"]);
  });

  it("rolling-deploy: the refresh guard alone still rolls the group; without both nothing does", async () => {
    const asg = named("sample-api-asg", "aws:autoscaling/group:Group");
    const noRefresh: Change = (s) => ({ ...s, props: { ...s.props, instanceRefresh: undefined } });
    expect(await violations("rolling-deploy", changed(asg, noRefresh))).toEqual([]);
    const neither = changed(
      (s) => asg(s) || s.type.startsWith("pulumi-nodejs:dynamic:InstanceRefresh"),
      (s) => (asg(s) ? noRefresh(s) : undefined),
    );
    expect(await violations("rolling-deploy", neither)).toEqual([
      expect.stringMatching(/^sample-api-asg: no instanceRefresh and no refresh guard/),
    ]);
  });

  it("fleet-spread: the group's AZs come from the subnets it references", async () => {
    const specs = changed(named("sample-api-asg", "aws:autoscaling/group:Group"), (s) => ({
      ...s,
      props: { ...s.props, vpcZoneIdentifiers: ["sample-api-private-0-id"] },
      propertyDependencies: {
        ...s.propertyDependencies,
        vpcZoneIdentifiers: s.propertyDependencies!.vpcZoneIdentifiers!.slice(0, 1),
      },
    }));
    expect(await violations("fleet-spread", specs)).toEqual([
      expect.stringMatching(/^sample-api-asg: spans 1 Availability Zone\(s\): at least 2/),
    ]);
  });

  it("user-data-no-secrets: the value of the stack's SecureString parameter, gzipped in the launch template", async () => {
    const datadogKey = graphs.get("prod/alb")!.state.find((s) => s.name === "sample-api-datadog-api-key")!.props
      .value as { value: string };
    const specs = changed(named("sample-api-lt", "aws:ec2/launchTemplate:LaunchTemplate"), (s) => {
      const text = gunzipSync(Buffer.from(String(s.props.userData), "base64")).toString();
      const leaked = `${text}\nruncmd:\n  - echo ${datadogKey.value} > /tmp/k\n`;
      return { ...s, props: { ...s.props, userData: gzipSync(leaked).toString("base64") } };
    });
    expect(await violations("user-data-no-secrets", specs)).toEqual([
      "sample-api-lt: user-data holds the value of a secret of the stack: put it in an SSM SecureString parameter and read it at boot",
    ]);
  });
});

describe("the pack served as `pulumi preview --policy-pack policy` serves it (policy/test/served.ts)", () => {
  let pack: ServedPack | undefined;
  beforeAll(async () => {
    pack = await servePack();
  }, 180_000);
  afterAll(async () => pack?.stop());

  it("announces every policy with its enforcement level, and env (default prod) on the prod-only ones", async () => {
    const info = await pack!.info();
    expect([info.getName(), info.getVersion()]).toEqual(["node-service-aws", require("./package.json").version]);
    const listed = info
      .getPoliciesList()
      .map((p: any) => [
        p.getName(),
        levelName(p.getEnforcementlevel()),
        p.getConfigschema()?.getProperties()?.toJavaScript()?.env?.default,
      ]);
    expect(listed).toEqual(
      policies.map((p) => [p.name, p.enforcementLevel, prodOnly.includes(p.name) ? "prod" : undefined]),
    );
  });

  it("prod ALB: Analyze passes every registered resource, AnalyzeStack reports exactly the stack findings", async () => {
    await pack!.configure(cliConfig(policies));
    const g = graphs.get("prod/alb")!;
    const perResource = [];
    for (const s of g.registered) perResource.push(...(await pack!.analyze(s)));
    expect(perResource).toEqual([]);
    const { diagnostics } = await pack!.analyzeStack(g.state);
    expect(diagnostics.map((d) => [d.policyName, d.urn.split("::").pop(), d.enforcementLevel])).toEqual(
      Object.entries(STACK_FINDINGS["prod/alb"] ?? {}).flatMap(([policy, found]) =>
        found.map((f) => [policy, f.split(":")[0], "mandatory"]),
      ),
    );
  });

  it("a launch template that allows IMDSv1 is refused, with the policy's description and the reason", async () => {
    await pack!.configure(cliConfig(policies));
    const lt = graphs.get("prod/alb")!.registered.find((s) => s.type === "aws:ec2/launchTemplate:LaunchTemplate")!;
    const v1 = { ...lt, props: { ...lt.props, metadataOptions: { httpTokens: "optional" } } };
    expect(await pack!.analyze(v1)).toEqual([
      {
        policyName: "imdsv2-required",
        enforcementLevel: "mandatory",
        urn: "", // a resource policy's report carries no URN: the CLI files it under the analyzed resource
        message: expect.stringMatching(
          /^Instances require IMDSv2 session tokens.*\nmetadataOptions.httpTokens must be/s,
        ),
      },
    ]);
  });

  it("dev ALB with env=dev in the pack config: no violation, the prod-only rules not applicable", async () => {
    await pack!.configure(cliConfig(policies, Object.fromEntries(prodOnly.map((n) => [n, { env: "dev" }]))));
    const { diagnostics, notApplicable } = await pack!.analyzeStack(graphs.get("dev/alb")!.state);
    expect(diagnostics).toEqual([]);
    expect(notApplicable).toEqual(prodOnly);
  });
});
