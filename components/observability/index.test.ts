// The Observability component under Pulumi mocks: the wiring of the monitor table, the dashboard, the alarms
// and the DatadogIntegration child. The pure modules have their own tests (thresholds, monitors, dashboard).
import { withServiceDefaults } from "../../contract/service";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT_ID, MockRecorder, settle, setupMocks, valueOf } from "../../test/support/pulumi-mocks";
import { Observability } from "./index";

// One mock monitor for the file: a component's registerOutputs may reach it after its test ended,
// and a fresh monitor per test would not know that component. Each test starts with empty records.
// The register requests are watched too, for the aliases they carry.
let mocks: MockRecorder;
const aliasParents = new Map<string, string[]>();
beforeAll(async () => {
  mocks = await setupMocks();
  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    aliasParents.set(
      `${req.getType()}::${req.getName()}`,
      req.getAliasesList().map((a: any) => a.getSpec().getParenturn()),
    );
    return register(req, cb);
  };
});
beforeEach(() => {
  mocks.clear();
  aliasParents.clear();
});

async function build(extra: Record<string, unknown> = {}) {
  const o = new Observability("obs", {
    service: withServiceDefaults({ name: "sample-api" }),
    env: "prod",
    version: "v42",
    albArnSuffix: "app/sample-alb/50dc6c495c0c9188",
    targetGroupArnSuffix: "targetgroup/Sample-TG/73e2d6bc24d8a067",
    asgName: "sample-asg",
    expectedHealthyHosts: 3,
    notificationEmails: ["oncall@example.com"],
    datadogNotifyHandles: ["slack-ops"],
    ...extra,
  });
  const outputs = {
    rollback: await valueOf(o.rollbackAlarmNames),
    alarms: await valueOf(o.alarmNames),
    dashboardUrl: await valueOf(o.dashboardUrl),
    topicArn: await valueOf(o.topicArn),
  };
  const integrationRoleArn = await valueOf(o.integrationRoleArn);
  await valueOf(o.monitorIds);
  // registerOutputs reaches the mocks a few ticks after the outputs resolve.
  await settle();
  await new Promise((r) => setImmediate(r));
  await settle();
  return { ...outputs, integrationRoleArn, urn: await valueOf(o.urn) };
}

const monitors = () => mocks.ofType("datadog:index/monitor:Monitor");
const monitorNamed = (part: string) => {
  const found = monitors().filter((m) => String(m.inputs.name).includes(part));
  expect(found, part).toHaveLength(1);
  return found[0]!.inputs;
};

describe("Observability (ALB flavor)", () => {
  it("creates one monitor per failure signal, each with thresholds, delay, renotify, tags and a runbook action", async () => {
    await build();
    const names = monitors().map((m) => String(m.inputs.name));
    expect(names.sort()).toEqual(
      [
        "ALB healthy hosts",
        "ALB target 5xx share",
        "ALB target p99 latency (s)",
        "Event-loop delay p99 (ms)",
        "Host CPU used (%)",
        "Host disk used (%)",
        "Host memory used (%)",
      ]
        .map((n) => `[sample-api][prod] ${n}`)
        .sort(),
    );
    for (const m of monitors()) {
      const i = m.inputs;
      expect(i.type, i.name).toBe("query alert");
      expect(i.tags).toEqual(["env:prod", "service:sample-api"]);
      expect(Number(i.monitorThresholds.critical), i.name).toBeGreaterThan(0);
      expect(i.evaluationDelay, i.name).toBeGreaterThan(0);
      expect(i.renotifyInterval, i.name).toBe(60);
      expect(i.message, i.name).toMatch(/Runbook action: \S/);
      expect(i.message, i.name).toContain("@slack-ops");
      expect(i.message, i.name).toContain("@oncall@example.com");
      // The query's own threshold is the critical one.
      expect(i.query, i.name).toMatch(new RegExp(`[<>] ${i.monitorThresholds.critical.replace(".", "\\.")}$`));
      if (!String(i.name).includes("healthy hosts"))
        expect(Number(i.monitorThresholds.warning), i.name).toBeLessThan(Number(i.monitorThresholds.critical));
    }
  });

  it("5xx share is robust at low traffic: denominator clamped to a minimum request count, sparse points zero-filled", async () => {
    await build({ thresholds: { minRequests: 250 } });
    const m = monitorNamed("5xx share");
    expect(m.query).toBe(
      "sum(last_10m):default_zero(sum:aws.applicationelb.httpcode_target_5xx{targetgroup:targetgroup/sample-tg/73e2d6bc24d8a067}.as_count().rollup(sum, 60)) / " +
        "clamp_min(default_zero(sum:aws.applicationelb.request_count{targetgroup:targetgroup/sample-tg/73e2d6bc24d8a067}.as_count().rollup(sum, 60)), 250) > 0.05",
    );
    expect(m.evaluationDelay).toBe(900);
    expect(m.requireFullWindow).toBe(false);
  });

  it("healthy hosts notifies on no data, warns at one missing host, is critical at half the fleet", async () => {
    await build();
    const m = monitorNamed("healthy hosts");
    expect(m.notifyNoData).toBe(true);
    expect(m.noDataTimeframe).toBeGreaterThanOrEqual(20);
    expect(m.monitorThresholds).toEqual({ critical: "2", warning: "3" });
    expect(m.query).toMatch(/healthy_host_count\{targetgroup:targetgroup\/sample-tg\/[0-9a-f]+\} < 2$/);
    const p99 = monitorNamed("target p99");
    expect(p99.query).toContain("aws.applicationelb.target_response_time.p99{targetgroup:");
  });

  it("host and app monitors select the service by env and service tags, per host, with a new-host delay", async () => {
    await build();
    for (const part of ["CPU", "memory", "disk", "Event-loop"]) {
      const m = monitorNamed(part);
      expect(m.query, part).toContain("{service:sample-api,env:prod}");
      expect(m.query, part).toMatch(/by \{host/);
      expect(m.newGroupDelay, part).toBe(300);
    }
    expect(monitorNamed("Event-loop").query).toContain("app.event_loop.delay.p99");
  });

  it("dashboard has the article's two lines, error rate, percentiles, healthy hosts and OS metrics", async () => {
    const { dashboardUrl } = await build();
    const dash = JSON.parse(mocks.one("datadog:index/dashboardJson:DashboardJson").inputs.dashboard);
    const titles: string[] = dash.widgets.map((w: any) => w.definition.title);
    const queries = (title: string) =>
      dash.widgets
        .find((w: any) => w.definition.title === title)
        .definition.requests[0].queries.map((q: any) => q.query)
        .join(" ");
    expect(queries("Requests (count)")).toBe("sum:app.request.count{service:sample-api,env:prod}.as_count()");
    expect(queries("Request duration, average (ms)")).toContain("app.request.duration");
    for (const t of [
      "Error rate (5xx share of requests)",
      "Request duration percentiles (ms)",
      "ALB healthy hosts",
      "CPU used (%)",
      "Memory used (%)",
      "Disk used (%)",
      "Event-loop delay p99 (ms)",
    ])
      expect(titles).toContain(t);
    expect(dash.layout_type).toBe("ordered");
    expect(dashboardUrl).toMatch(/^https:\/\/app\.datadoghq\.com\/dashboard\/\S+$/);
  });

  it("CloudWatch alarms: 5xx share by metric math with a traffic guard, p99, healthy hosts over a window longer than a boot, ASG CPU", async () => {
    const { rollback, alarms, topicArn } = await build({ thresholds: { minRequests: 50 } });
    const byName = (n: string) =>
      mocks.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === n)!.inputs;
    expect(mocks.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")).toHaveLength(4);

    const share = byName("obs-5xx-share");
    const expr = share.metricQueries.find((q: any) => q.id === "share");
    expect(expr.expression).toBe("IF(FILL(requests, 0) >= 50, 100 * FILL(errors, 0) / requests, 0)");
    expect(expr.returnData).toBe(true);
    const metrics = share.metricQueries.filter((q: any) => q.metric).map((q: any) => q.metric);
    expect(metrics.map((m: any) => m.metricName).sort()).toEqual(["HTTPCode_Target_5XX_Count", "RequestCount"]);
    for (const m of metrics)
      expect(m.dimensions).toEqual({
        LoadBalancer: "app/sample-alb/50dc6c495c0c9188",
        TargetGroup: "targetgroup/Sample-TG/73e2d6bc24d8a067",
      });
    expect(share.threshold).toBe(5);

    const p99 = byName("obs-p99");
    expect(p99).toMatchObject({ metricName: "TargetResponseTime", extendedStatistic: "p99", threshold: 2 });
    const healthy = byName("obs-healthy-hosts");
    // A new stack's first minutes (no data yet, then targets still booting) do not page: missing data leaves the
    // alarm in INSUFFICIENT_DATA, which has no action here, and it needs every minute of a window longer than
    // the hosts' boot budget below the level (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
    expect(healthy).toMatchObject({
      metricName: "HealthyHostCount",
      comparisonOperator: "LessThanThreshold",
      threshold: 3,
      treatMissingData: "missing",
      period: 60,
      evaluationPeriods: 6,
      datapointsToAlarm: 6,
    });
    expect(healthy.insufficientDataActions ?? []).toEqual([]);
    const cpu = byName("obs-asg-cpu");
    expect(cpu).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: "sample-asg" },
    });

    for (const a of mocks.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")) {
      expect(a.inputs.alarmActions, a.name).toEqual([topicArn]);
      expect(a.inputs.okActions, a.name).toEqual([topicArn]);
    }
    expect(alarms).toHaveLength(4);
    // Rollback on the service's failure signals, not on CPU (a rollout may legitimately be busy).
    expect(rollback).toEqual(["obs-5xx-share-x1", "obs-p99-x1", "obs-healthy-hosts-x1"]);
  });

  it("alarm topic is encrypted with a key CloudWatch may use and only this account's alarms may publish", async () => {
    await build();
    const topic = mocks.one("aws:sns/topic:Topic").inputs;
    const key = mocks.one("aws:kms/key:Key").inputs;
    expect(topic.kmsMasterKeyId).toMatch(/^arn:aws:kms:/);
    expect(key.enableKeyRotation).toBe(true);
    const keyPolicy = JSON.parse(key.policy);
    const cw = keyPolicy.Statement.find((s: any) => s.Principal.Service === "cloudwatch.amazonaws.com");
    expect(cw.Action).toEqual(["kms:Decrypt", "kms:GenerateDataKey*"]);
    const topicPolicy = JSON.parse(mocks.one("aws:sns/topicPolicy:TopicPolicy").inputs.policy);
    expect(topicPolicy.Statement[0].Condition.ArnLike["aws:SourceArn"]).toBe(
      `arn:aws:cloudwatch:us-east-1:${ACCOUNT_ID}:alarm:*`,
    );
    const sub = mocks.one("aws:sns/topicSubscription:TopicSubscription").inputs;
    expect(sub).toMatchObject({ protocol: "email", endpoint: "oncall@example.com" });
  });

  it("creates no Datadog AWS integration unless asked (one per AWS account)", async () => {
    const { integrationRoleArn } = await build();
    expect(integrationRoleArn).toBeUndefined();
    expect(mocks.ofType("node-service-aws:index:DatadogIntegration")).toHaveLength(0);
    expect(mocks.ofType("datadog:aws/integrationAccount:IntegrationAccount")).toHaveLength(0);
    expect(mocks.ofType("aws:iam/role:Role")).toHaveLength(0);
    expect(mocks.ofType("datadog:index/integration:Integration")).toHaveLength(0);
  });
});

describe("Observability: Datadog AWS integration", () => {
  it("composes a DatadogIntegration child with the args given; its resources keep the URNs they had as Observability's own", async () => {
    const { integrationRoleArn, urn } = await build({
      createDatadogIntegration: true,
      datadogAwsAccountId: "065115117704",
      datadogNamespaces: ["AWS/EC2"],
    });
    expect(mocks.one("node-service-aws:index:DatadogIntegration").name).toBe("obs");
    expect(integrationRoleArn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/obs-dd-integration-x1`);
    const role = mocks.one("aws:iam/role:Role");
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({
      AWS: "arn:aws:iam::065115117704:root",
    });
    expect(
      mocks.one("datadog:aws/integrationAccount:IntegrationAccount").inputs.metricsConfig.namespaceFilters
        .includeOnlies,
    ).toEqual(["AWS/EC2"]);
    // Aliases to the component itself (stacks already under its current type token) and to its URN before that.
    const former = "urn:pulumi:test::node-service-aws::node-service:observability:Observability::obs";
    for (const child of [
      "aws:iam/role:Role::obs-dd-integration",
      "datadog:aws/integrationAccount:IntegrationAccount::obs-dd-aws",
    ])
      expect(aliasParents.get(child), child).toEqual([urn, former]);
  });
});

describe("Observability: reusing an account's existing Datadog AWS integration", () => {
  it("creates nothing and reports the existing integration's role; the creating stack lists every region", async () => {
    const existing = `arn:aws:iam::${ACCOUNT_ID}:role/DatadogIntegrationRole`;
    const { integrationRoleArn } = await build({ datadogIntegrationRoleArn: existing });
    expect(integrationRoleArn).toBe(existing);
    expect(mocks.ofType("datadog:aws/integrationAccount:IntegrationAccount")).toHaveLength(0);
    expect(mocks.ofType("aws:iam/role:Role")).toHaveLength(0);
    mocks.clear();
    await build({ createDatadogIntegration: true, datadogRegions: ["us-east-1", "eu-west-1"] });
    expect(mocks.one("datadog:aws/integrationAccount:IntegrationAccount").inputs.awsRegions).toEqual({
      includeOnlies: ["us-east-1", "eu-west-1"],
    });
  });
});

describe("Observability (HAProxy flavor: no ALB, no ASG)", () => {
  it("keeps host and app monitors, skips ALB monitors and alarms, has no rollback alarms", async () => {
    const { rollback, alarms } = await build({
      albArnSuffix: undefined,
      targetGroupArnSuffix: undefined,
      asgName: undefined,
      env: "dev",
      expectedHealthyHosts: 1,
    });
    expect(monitors()).toHaveLength(7);
    expect(monitors().every((m) => !String(m.inputs.query).includes("applicationelb"))).toBe(true);
    expect(monitorNamed("Service 5xx share").query).toBe(
      "sum(last_10m):default_zero(sum:app.request.count{service:sample-api,env:dev,status_class:5xx}.as_count().rollup(sum, 60)) / " +
        "clamp_min(default_zero(sum:app.request.count{service:sample-api,env:dev}.as_count().rollup(sum, 60)), 20) > 0.05",
    );
    expect(monitorNamed("p95 request duration").monitorThresholds).toEqual({ critical: "2000", warning: "1000" });
    const hosts = monitorNamed("hosts reporting");
    expect(hosts.notifyNoData).toBe(true);
    // One host: no warning level, critical when it is gone.
    expect(hosts.monitorThresholds).toEqual({ critical: "1" });
    expect(hosts.query).toMatch(
      /count_not_null\(max:app\.event_loop\.delay\.p99\{service:sample-api,env:dev\} by \{host\}\) < 1$/,
    );
    expect(alarms).toEqual([]);
    expect(rollback).toEqual([]);
  });
});

describe("Observability (HAProxy flavor with its NLB)", () => {
  it("alarms on the NLB's view of the HAProxy nodes: fewer healthy than expected, any unhealthy; none rolls anything back", async () => {
    // A node fails the NLB's check when it reaches no usable service host (health URI, host/haproxy/config.ts),
    // so "no healthy backend" shows here as a node gone unhealthy. NLB metrics: AWS/NetworkELB, dimensions
    // LoadBalancer and TargetGroup (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html).
    const { rollback, alarms, topicArn } = await build({
      albArnSuffix: undefined,
      targetGroupArnSuffix: undefined,
      asgName: undefined,
      env: "prod",
      nlbArnSuffix: "net/sample-nlb/50dc6c495c0c9188",
      nlbTargetGroupArnSuffix: "targetgroup/sample-haproxy/73e2d6bc24d8a067",
      expectedHealthyNodes: 2,
      hostBootSec: 600,
    });
    const byName = (n: string) =>
      mocks.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === n)!.inputs;
    const dims = {
      LoadBalancer: "net/sample-nlb/50dc6c495c0c9188",
      TargetGroup: "targetgroup/sample-haproxy/73e2d6bc24d8a067",
    };
    const window = { period: 60, evaluationPeriods: 11, datapointsToAlarm: 11, treatMissingData: "missing" };
    expect(byName("obs-nlb-healthy-nodes")).toMatchObject({
      namespace: "AWS/NetworkELB",
      metricName: "HealthyHostCount",
      dimensions: dims,
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 2,
      ...window,
    });
    expect(byName("obs-nlb-unhealthy-nodes")).toMatchObject({
      namespace: "AWS/NetworkELB",
      metricName: "UnHealthyHostCount",
      dimensions: dims,
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      ...window,
    });
    for (const a of mocks.ofType("aws:cloudwatch/metricAlarm:MetricAlarm"))
      expect(a.inputs.alarmActions, a.name).toEqual([topicArn]);
    expect(alarms).toEqual(["obs-nlb-healthy-nodes-x1", "obs-nlb-unhealthy-nodes-x1"]);
    expect(rollback).toEqual([]);
  });
});

describe("Observability: bad input", () => {
  it.each([
    [
      { thresholds: { cpuWarningPercent: 95 } },
      "thresholds.cpuCriticalPercent: 90 must be above cpuWarningPercent (95)",
    ],
    [
      { thresholds: { errorRateCritical: 5, errorRateWarning: 2 } },
      "thresholds.errorRateCritical: 5 is a share of requests, 0-1",
    ],
    [{ expectedHealthyHosts: 0 }, "expectedHealthyHosts: 0 must be a positive integer"],
    [{ targetGroupArnSuffix: undefined }, "albArnSuffix and targetGroupArnSuffix: give both"],
    [
      { albArnSuffix: undefined, targetGroupArnSuffix: undefined, nlbArnSuffix: "net/x/1" },
      "nlbArnSuffix and nlbTargetGroupArnSuffix: give both",
    ],
    [
      { nlbArnSuffix: "net/x/1", nlbTargetGroupArnSuffix: "targetgroup/x/1" },
      "one load balancer: the ALB's suffixes or the NLB's, not both",
    ],
    [
      { createDatadogIntegration: true, datadogIntegrationRoleArn: "arn:aws:iam::1:role/x" },
      "datadogIntegrationRoleArn: an existing integration's role, so createDatadogIntegration must be false",
    ],
  ])("refuses %j with one message, no stack trace (RunError)", async (extra, message) => {
    const refusal = build(extra);
    await expect(refusal).rejects.toThrow(message);
    await expect(refusal).rejects.toBeInstanceOf(pulumi.RunError);
  });
});

describe("Observability args", () => {
  // What `pulumi package add` reads to publish the component to other languages.
  it("pass Pulumi's component analyzer; every input and output documented; plain only where a value decides what exists", () => {
    const entry = path.join(__dirname, "index.ts");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-"));
    try {
      fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({ extends: path.resolve(__dirname, "../../tsconfig.json"), files: [entry], include: [] }),
      );
      const schema = new Analyzer(
        dir,
        "node-service-aws",
        { exports: { ".": entry } },
        new Set(["Observability"]),
      ).analyze().components.Observability!;
      for (const [k, p] of Object.entries(schema.inputs)) expect(p.description, k).toMatch(/Default\s|Required\./);
      for (const [k, p] of Object.entries(schema.outputs)) expect(p.description, k).toMatch(/\S/);
      const plain = Object.entries(schema.inputs)
        .filter(([, p]) => p.plain)
        .map(([k]) => k);
      expect(plain.sort()).toEqual([
        "createDatadogIntegration",
        "expectedHealthyHosts",
        "notificationEmails",
        "protectAlarmKey",
        "service",
        "thresholds",
      ]);
      for (const k of plain) expect(schema.inputs[k]!.description, k).toMatch(/Plain|plain/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
