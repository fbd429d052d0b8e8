// Every policy of the pack over the stack's own resource graphs, dev and prod in both flavors, as the CLI hands
// them to the pack (policy/test/graphs.ts: the real program through the stand-in engine; policy/test/args.ts: the
// analyzer server's arguments). Prod passes every rule. Dev runs with the pack config env=dev, under which the
// prod-only rules say they do not apply; the same dev graphs judged as prod show those rules are not idle there.
import { beforeAll, describe, expect, it } from "vitest";
import { policies, prodOnly } from "./pack";
import type { PackPolicy } from "./pack";
import { Outcome, ResourceSpec, runPolicy } from "./test/args";
import { PolicyGraph, policyGraphs } from "./test/graphs";

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
const STACK_FINDINGS: Record<string, Record<string, string[]>> = {
  "prod/alb": {
    "deletion-protection": ["sample-api-alarms: not protected: set the protect resource option"],
  },
  "prod/haproxy": {
    "deletion-protection": ["sample-api-alarms: not protected: set the protect resource option"],
    "load-balancer-access-logs": [
      "sample-api-nlb: load balancer (network) without access logs (accessLogs.enabled and accessLogs.bucket)",
    ],
  },
};

describe.each(["alb", "haproxy"])("prod, %s flavor", (flavor) => {
  it.each(policies.map((p) => [p.name, p] as const))("%s: no violation", async (_, p) => {
    const o = await judge(p, graphs.get(`prod/${flavor}`)!, {});
    expect(shown(o)).toEqual(STACK_FINDINGS[`prod/${flavor}`]?.[p.name] ?? []);
    expect(o.notApplicable).toBeUndefined();
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
