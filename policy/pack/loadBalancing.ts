// The load balancer in front of the fleet: TLS with a modern policy, no plain HTTP from the internet but a
// redirect, access logs, deletion protection in prod, and alarms that someone receives.
import type { PolicyResource } from "@pulumi/policy";
import { PackPolicy, envConfig, isOf, known, list, ofTypes, onlyInProd, referrers, refersTo, types } from "./common";

/** TLS 1.3 policies with TLS 1.2 as the floor, FIPS and post-quantum variants included, the Ext ones (CBC) not. */
export const MODERN_TLS = "^ELBSecurityPolicy-TLS13-1-[23]-(?!Ext)";

export const modernTls: PackPolicy = {
  name: "modern-tls-policy",
  description:
    "Every HTTPS or TLS listener names a certificate and a security policy matching sslPolicyPattern (TLS 1.3 policies, TLS 1.2 minimum); without one AWS applies ELBSecurityPolicy-2016-08, which accepts TLS 1.0.",
  enforcementLevel: "mandatory",
  resourceTypes: types.listener,
  configSchema: { properties: { sslPolicyPattern: { type: "string", default: MODERN_TLS } } },
  validateResource: (args, report) => {
    if (!isOf(args.type, types.listener)) return;
    if (args.props.protocol !== "HTTPS" && args.props.protocol !== "TLS") return;
    const pattern = new RegExp(args.getConfig<{ sslPolicyPattern?: string }>().sslPolicyPattern ?? MODERN_TLS);
    const policy = args.props.sslPolicy;
    if (typeof policy !== "string" || !pattern.test(policy))
      report(`sslPolicy ${policy ?? "(unset: ELBSecurityPolicy-2016-08)"} does not match ${pattern.source}`);
    if (!args.props.certificateArn) report("no certificateArn");
  },
};

const internetFacing = (lb: PolicyResource) => lb.props.internal !== true;
const lbOf = (rs: readonly PolicyResource[], l: PolicyResource) =>
  ofTypes(rs, types.loadBalancer).find((lb) => refersTo(l, "loadBalancerArn", lb));
const redirectsToHttps = (actions: unknown) => {
  const a = list(actions);
  return a.length > 0 && a.every((x) => x.type === "redirect" && x.redirect?.protocol === "HTTPS");
};

export const publicListenersHttps: PackPolicy = {
  name: "public-listeners-https",
  description:
    "In prod an internet-facing load balancer listens with HTTPS or TLS only, except an HTTP listener whose every action redirects to HTTPS; an application load balancer has an HTTPS listener.",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.loadBalancer, ...types.classicLoadBalancer, ...types.listener, ...types.listenerRule],
  tags: ["prod-only"],
  configSchema: envConfig,
  validateStack: (args, report) => {
    onlyInProd(args);
    const rs = args.resources;
    for (const l of ofTypes(rs, types.listener)) {
      const lb = lbOf(rs, l);
      if (lb !== undefined && !internetFacing(lb)) continue;
      const protocol = String(l.props.protocol ?? "HTTP");
      if (protocol === "HTTPS" || protocol === "TLS") continue;
      if (protocol !== "HTTP") {
        report(`listens with ${protocol} on port ${l.props.port} to the internet: TLS`, l.urn);
        continue;
      }
      if (!redirectsToHttps(l.props.defaultActions))
        report(`HTTP on port ${l.props.port} to the internet must only redirect to HTTPS`, l.urn);
      for (const rule of referrers(rs, types.listenerRule, "listenerArn", l))
        if (!redirectsToHttps(rule.props.actions))
          report(`a rule of the HTTP listener ${l.name} answers over HTTP: redirect to HTTPS`, rule.urn);
    }
    for (const lb of ofTypes(rs, types.loadBalancer).filter(internetFacing)) {
      if ((lb.props.loadBalancerType ?? "application") !== "application") continue;
      const https = referrers(rs, types.listener, "loadBalancerArn", lb).some((l) => l.props.protocol === "HTTPS");
      if (!https) report("an internet-facing application load balancer without an HTTPS listener", lb.urn);
    }
    for (const elb of ofTypes(rs, types.classicLoadBalancer).filter(internetFacing))
      for (const l of list(elb.props.listeners))
        if (!["https", "ssl"].includes(String(l.lbProtocol).toLowerCase()))
          report(`a classic load balancer listening with ${l.lbProtocol} on ${l.lbPort} to the internet`, elb.urn);
  },
};

export const accessLogs: PackPolicy = {
  name: "load-balancer-access-logs",
  description:
    "Application and classic load balancers write access logs to a bucket; so does a network load balancer with a TLS listener (NLB logs cover TLS requests only).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.loadBalancer, ...types.classicLoadBalancer, ...types.listener],
  validateStack: (args, report) => {
    const rs = args.resources;
    // a bucket name unknown in preview (the log bucket is created in the same update) is a bucket
    const bucketOf = (lb: PolicyResource) =>
      known(() => !!lb.props.accessLogs?.bucket, true) ? lb.props.accessLogs : undefined;
    for (const lb of ofTypes(rs, types.loadBalancer)) {
      const kind = String(lb.props.loadBalancerType ?? "application");
      const tls = referrers(rs, types.listener, "loadBalancerArn", lb).some((l) => l.props.protocol === "TLS");
      // v2 access logs are off unless enabled is true; a classic load balancer's are on once the block is given
      if ((kind === "application" || (kind === "network" && tls)) && bucketOf(lb)?.enabled !== true)
        report(`load balancer (${kind}) without access logs (accessLogs.enabled and accessLogs.bucket)`, lb.urn);
    }
    for (const elb of ofTypes(rs, types.classicLoadBalancer))
      if (bucketOf(elb) === undefined || bucketOf(elb).enabled === false)
        report("a classic load balancer without access logs", elb.urn);
  },
};

/** What must survive a mistaken `pulumi destroy` or a replacement in prod. */
const stateful = [...types.bucket, ...types.kmsKey, ...types.ssmParameter];

export const deletionProtection: PackPolicy = {
  name: "deletion-protection",
  description:
    "In prod load balancers have deletion protection on; buckets, KMS keys and SSM parameters carry Pulumi's protect option; buckets do not forceDestroy; KMS keys wait at least minKeyDeletionWindowDays before deletion.",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.loadBalancer, ...stateful],
  tags: ["prod-only"],
  configSchema: {
    properties: {
      ...envConfig.properties,
      minKeyDeletionWindowDays: { type: "integer", minimum: 7, maximum: 30, default: 30 },
    },
  },
  validateStack: (args, report) => {
    onlyInProd(args);
    const days = args.getConfig<{ minKeyDeletionWindowDays?: number }>().minKeyDeletionWindowDays ?? 30;
    for (const lb of ofTypes(args.resources, types.loadBalancer))
      if (lb.props.enableDeletionProtection !== true) report("enableDeletionProtection is off", lb.urn);
    for (const r of ofTypes(args.resources, stateful))
      if (!r.opts.protect) report("not protected: set the protect resource option", r.urn);
    for (const b of ofTypes(args.resources, types.bucket))
      if (b.props.forceDestroy === true) report("forceDestroy deletes every object with the bucket", b.urn);
    for (const k of ofTypes(args.resources, types.kmsKey))
      if (Number(k.props.deletionWindowInDays ?? 30) < days)
        report(`deletionWindowInDays is ${k.props.deletionWindowInDays}: at least ${days}`, k.urn);
  },
};

const watches = (alarm: PolicyResource, target: PolicyResource) =>
  refersTo(alarm, "dimensions", target) || refersTo(alarm, "metricQueries", target);
const metricsOf = (a: PolicyResource): string[] => [
  ...list<string>(a.props.metricName),
  ...list(a.props.metricQueries).flatMap((q) => list<string>(q.metric?.metricName)),
];

export const serviceAlarms: PackPolicy = {
  name: "service-alarms",
  description:
    "A stack with a fleet has CloudWatch alarms; every load balancer has one on its healthy (or unhealthy) host count; every alarm notifies someone (alarmActions).",
  enforcementLevel: "mandatory",
  resourceTypes: [
    ...types.metricAlarm,
    ...types.loadBalancer,
    ...types.targetGroup,
    ...types.autoScalingGroup,
    ...types.instance,
  ],
  validateStack: (args, report) => {
    const rs = args.resources;
    const alarms = ofTypes(rs, types.metricAlarm);
    const fleets = ofTypes(rs, [...types.autoScalingGroup, ...types.instance]);
    if (fleets.length > 0 && alarms.length === 0) report("the stack runs a fleet and has no CloudWatch alarm");
    for (const a of alarms)
      if (known(() => list(a.props.alarmActions).length, 1) === 0)
        report("the alarm has no alarmActions: nobody would be told", a.urn);
    for (const lb of ofTypes(rs, types.loadBalancer)) {
      const hostAlarms = alarms.filter(
        (a) => metricsOf(a).some((m) => /^(Un)?HealthyHostCount$/.test(m)) && watches(a, lb),
      );
      if (hostAlarms.length === 0) report("no alarm on the load balancer's healthy host count", lb.urn);
    }
  },
};

export const loadBalancingPolicies: PackPolicy[] = [
  modernTls,
  publicListenersHttps,
  accessLogs,
  deletionProtection,
  serviceAlarms,
];
