// The load balancer policies, each with a resource that passes and one that violates.
import { describe, expect, it } from "vitest";
import { ResourceSpec, runPolicy, urnOf } from "../test/args";
import { accessLogs, deletionProtection, modernTls, publicListenersHttps, serviceAlarms } from "./loadBalancing";

const ARN = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1";
const lb = (props: object, type = "aws:lb/loadBalancer:LoadBalancer"): ResourceSpec => ({
  type,
  name: "web",
  props: { arn: ARN, arnSuffix: "app/web/1", internal: false, loadBalancerType: "application", ...props },
});
const listener = (name: string, props: object, type = "aws:lb/listener:Listener"): ResourceSpec => ({
  type,
  name,
  props: { loadBalancerArn: ARN, ...props },
});
const https = listener("https", {
  port: 443,
  protocol: "HTTPS",
  certificateArn: "arn:aws:acm:us-east-1:1:certificate/c",
  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
});
const redirect = listener("http", {
  port: 80,
  protocol: "HTTP",
  defaultActions: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
});
const messages = async (p: Parameters<typeof runPolicy>[0], specs: ResourceSpec[], config = {}) =>
  (await runPolicy(p, specs, config)).violations.map((v) => v.message);

describe("modern-tls-policy", () => {
  it("passes a TLS 1.3 policy on HTTPS (aws.lb) and TLS (aws.alb token) listeners", async () => {
    const tls = listener(
      "tls",
      { protocol: "TLS", certificateArn: "c", sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06" },
      "aws:alb/listener:Listener",
    );
    expect(await messages(modernTls, [https, tls, redirect])).toEqual([]);
  });
  it("fails the default policy and one that still accepts TLS 1.0", async () => {
    const old = listener("old", { protocol: "HTTPS", certificateArn: "c", sslPolicy: "ELBSecurityPolicy-2016-08" });
    const none = listener("none", { protocol: "TLS" }, "aws:alb/listener:Listener");
    expect(await messages(modernTls, [old, none])).toEqual([
      expect.stringMatching(/^sslPolicy ELBSecurityPolicy-2016-08 does not match/),
      expect.stringMatching(/^sslPolicy \(unset: ELBSecurityPolicy-2016-08\) does not match/),
      "no certificateArn",
    ]);
  });
});

describe("public-listeners-https (prod only)", () => {
  it("passes HTTPS plus a redirecting HTTP listener, and an internal load balancer on HTTP", async () => {
    expect(await messages(publicListenersHttps, [lb({}), https, redirect])).toEqual([]);
    const internal = lb({ internal: true });
    expect(await messages(publicListenersHttps, [internal, listener("plain", { protocol: "HTTP", port: 80 })])).toEqual(
      [],
    );
  });
  it("fails HTTP that forwards, plain TCP to the internet and an ALB without HTTPS; skipped in dev", async () => {
    const forward = listener("http", {
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "forward", targetGroupArn: "tg" }],
    });
    const nlb = { ...lb({ arn: "nlb-arn", loadBalancerType: "network" }), name: "nlb" };
    const tcp = listener("tcp", { port: 80, protocol: "TCP", loadBalancerArn: "nlb-arn" });
    const specs = [lb({}), forward, nlb, tcp];
    expect(await messages(publicListenersHttps, specs)).toEqual([
      "HTTP on port 80 to the internet must only redirect to HTTPS",
      "listens with TCP on port 80 to the internet: TLS",
      "an internet-facing application load balancer without an HTTPS listener",
    ]);
    expect((await runPolicy(publicListenersHttps, specs, { env: "dev" })).notApplicable).toMatch(/env is dev/);
  });
});

describe("load-balancer-access-logs", () => {
  const logs = { accessLogs: { bucket: "logs", enabled: true } };
  it("passes an ALB with logs and an NLB without TLS listeners (NLB logs cover TLS only)", async () => {
    const nlb = { ...lb({ arn: "nlb-arn", loadBalancerType: "network" }), name: "nlb" };
    expect(
      await messages(accessLogs, [
        lb(logs),
        https,
        nlb,
        listener("tcp", { protocol: "TCP", loadBalancerArn: "nlb-arn" }),
      ]),
    ).toEqual([]);
  });
  it("fails an ALB with logs off (aws.alb token), an NLB with a TLS listener and a classic ELB without logs", async () => {
    const nlb = { ...lb({ arn: "nlb-arn", loadBalancerType: "network" }), name: "nlb" };
    const tls = listener("tls", { protocol: "TLS", loadBalancerArn: "nlb-arn" });
    const elb: ResourceSpec = { type: "aws:elb/loadBalancer:LoadBalancer", name: "classic", props: {} };
    expect(
      await messages(accessLogs, [
        lb({ accessLogs: { bucket: "logs", enabled: false } }, "aws:alb/loadBalancer:LoadBalancer"),
        nlb,
        tls,
        elb,
      ]),
    ).toEqual([
      expect.stringMatching(/^load balancer \(application\) without access logs/),
      expect.stringMatching(/^load balancer \(network\) without access logs/),
      "a classic load balancer without access logs",
    ]);
  });
});

describe("deletion-protection (prod only)", () => {
  const bucket = (props: object, protect: boolean): ResourceSpec => ({
    type: "aws:s3/bucketV2:BucketV2",
    name: "b",
    props,
    protect,
  });
  const key = (props: object, protect: boolean): ResourceSpec => ({
    type: "aws:kms/key:Key",
    name: "k",
    props,
    protect,
  });
  it("passes a protected load balancer, bucket and key", async () => {
    const specs = [
      lb({ enableDeletionProtection: true }),
      bucket({ forceDestroy: false }, true),
      key({ deletionWindowInDays: 30 }, true),
    ];
    expect(await messages(deletionProtection, specs)).toEqual([]);
  });
  it("fails what a destroy would take with it; skipped in dev", async () => {
    const specs = [lb({}), bucket({ forceDestroy: true }, false), key({ deletionWindowInDays: 7 }, true)];
    expect(await messages(deletionProtection, specs)).toEqual([
      "enableDeletionProtection is off",
      "not protected: set the protect resource option",
      "forceDestroy deletes every object with the bucket",
      "deletionWindowInDays is 7: at least 30",
    ]);
    expect((await runPolicy(deletionProtection, specs, { env: "dev" })).violations).toEqual([]);
  });
});

describe("service-alarms", () => {
  const web = lb({});
  const alarm = (props: object): ResourceSpec => ({
    type: "aws:cloudwatch/metricAlarm:MetricAlarm",
    name: "healthy",
    props: { metricName: "HealthyHostCount", alarmActions: ["arn:aws:sns:us-east-1:1:alarms"], ...props },
    propertyDependencies: { dimensions: [urnOf(web)] },
  });
  const asg: ResourceSpec = { type: "aws:autoscaling/group:Group", name: "asg", props: {} };
  it("passes a notifying healthy-host alarm on the load balancer", async () => {
    expect(await messages(serviceAlarms, [web, asg, alarm({ dimensions: { LoadBalancer: "app/web/1" } })])).toEqual([]);
  });
  it("fails a fleet without alarms, an alarm nobody receives and a load balancer nothing watches", async () => {
    expect(await messages(serviceAlarms, [asg])).toEqual(["the stack runs a fleet and has no CloudWatch alarm"]);
    const silent = { ...alarm({ alarmActions: [], metricName: "CPUUtilization" }), propertyDependencies: {} };
    expect(await messages(serviceAlarms, [web, asg, silent])).toEqual([
      "the alarm has no alarmActions: nobody would be told",
      "no alarm on the load balancer's healthy host count",
    ]);
  });
});
