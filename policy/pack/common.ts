// What every policy of the pack shares: the type tokens a resource may come as, the stack's environment (pack
// config, for the prod-only rules), links between resources, and the bridge to the graph rules of policy/*.ts.
//
// Type tokens: @pulumi/aws 7.x registers aws:lb/* and aws:alb/* (the same resources under two modules), S3 bucket
// settings both as v1 resources and as the deprecated *V2 ones, and each class declares the token it had before as
// an alias (aws:elasticloadbalancingv2/*, aws:applicationloadbalancing/*, aws:elasticloadbalancing/*): a stack
// built with an older provider registers those. Every set below lists them all.
import { UnknownValueError } from "@pulumi/policy";
import type {
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { Problem } from "../../contract/problem";
import type { GraphResource } from "../graph";

const lbModules = ["lb", "alb", "elasticloadbalancingv2", "applicationloadbalancing"];
const v2Types = (resource: string) => lbModules.map((m) => `aws:${m}/${resource}`);

export const types = {
  loadBalancer: v2Types("loadBalancer:LoadBalancer"),
  classicLoadBalancer: ["aws:elb/loadBalancer:LoadBalancer", "aws:elasticloadbalancing/loadBalancer:LoadBalancer"],
  listener: v2Types("listener:Listener"),
  listenerRule: v2Types("listenerRule:ListenerRule"),
  targetGroup: v2Types("targetGroup:TargetGroup"),
  launchTemplate: ["aws:ec2/launchTemplate:LaunchTemplate"],
  launchConfiguration: ["aws:ec2/launchConfiguration:LaunchConfiguration"],
  instance: ["aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest"],
  volume: ["aws:ebs/volume:Volume"],
  autoScalingGroup: ["aws:autoscaling/group:Group"],
  subnet: ["aws:ec2/subnet:Subnet", "aws:ec2/defaultSubnet:DefaultSubnet"],
  securityGroup: ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"],
  securityGroupRule: ["aws:ec2/securityGroupRule:SecurityGroupRule"],
  ingressRule: ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"],
  egressRule: ["aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"],
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  bucketPublicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  bucketAcl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
  bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
  bucketEncryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  bucketVersioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  kmsKey: ["aws:kms/key:Key"],
  kmsKeyPolicy: ["aws:kms/keyPolicy:KeyPolicy"],
  ssmParameter: ["aws:ssm/parameter:Parameter"],
  ssmAssociation: ["aws:ssm/association:Association"],
  metricAlarm: ["aws:cloudwatch/metricAlarm:MetricAlarm"],
  /** The fleet component's guard and waiter (components/fleet/refresh.ts): dynamic resources of their own type. */
  refreshGuard: ["pulumi-nodejs:dynamic:InstanceRefreshGuard", "pulumi-nodejs:dynamic:InstanceRefreshWaiter"],
} as const;

/** A policy of the pack with the type tokens it reads, for the README table and the tests. */
export type PackPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  /** Type tokens the policy reads (the README lists them). */
  resourceTypes: readonly string[];
};

export const isOf = (type: string, set: readonly string[]): boolean => set.includes(type);
export const ofTypes = (rs: readonly PolicyResource[], set: readonly string[]) => rs.filter((r) => isOf(r.type, set));

/** Values given either as a single value or as a list. */
export function list<T = any>(v: unknown): T[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T];
}

/** A boolean input the provider also takes as "true"/"false" (launch template block devices, interfaces). */
export const truthy = (v: unknown): boolean => v === true || v === "true";

// --- the stack's environment ---------------------------------------------------------------------------

export const PROD_ENVS = ["prod", "production"];

/**
 * The config of every prod-only rule: `env`, the stack's environment (the stack config key of the same name).
 * The default is prod, so a stack that says nothing gets every rule.
 */
export const envConfig: PolicyConfigSchema = {
  properties: {
    env: {
      type: "string",
      default: "prod",
      description: `The stack's environment (its env config); the rule applies when it is ${PROD_ENVS.join(" or ")}`,
    },
  },
};

/** Stops a prod-only rule in any other environment, through the SDK's not-applicable channel. */
export function onlyInProd(args: ResourceValidationArgs | StackValidationArgs): void {
  const env = args.getConfig<{ env?: string }>().env ?? "prod";
  if (!PROD_ENVS.includes(env)) args.notApplicable(`prod-only rule; this stack's env is ${env}`);
}

// --- values unknown in preview ---------------------------------------------------------------------------

/**
 * `read()`, or `ifUnknown` when it reads a value unknown during preview (an id or ARN not created yet: the SDK's
 * proxy throws UnknownValueError). Links use it so that a rule still runs in preview through the engine's property
 * dependencies; a value a rule must judge is read plainly, and the SDK reports the rule as not runnable in preview.
 */
export function known<T>(read: () => T, ifUnknown: T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof UnknownValueError) return ifUnknown;
    throw e;
  }
}

// --- links between resources ---------------------------------------------------------------------------

/** Values by which another resource may name `r`: its id, ARN, name-like outputs (known ones). */
export function handles(r: PolicyResource): string[] {
  return ["id", "arn", "bucket", "keyId", "arnSuffix", "name"]
    .map((k) => known(() => r.props[k] as unknown, undefined))
    .filter((v): v is string => typeof v === "string" && v !== "");
}

/**
 * Whether `from`'s property `key` refers to `to`: the engine's property dependencies say so (a reference in the
 * program), or the value is one of `to`'s ids or ARNs (a plain string, as a stack that looked it up passes it).
 */
export function refersTo(from: PolicyResource, key: string, to: PolicyResource): boolean {
  if ((from.propertyDependencies?.[key] ?? []).some((d) => d.urn === to.urn)) return true;
  const ids = handles(to);
  const values = known(() => JSON.stringify(from.props[key] ?? null), "null");
  return ids.some((id) => values.includes(JSON.stringify(id)));
}

/** The resources of `set` whose `key` refers to `to`. */
export const referrers = (rs: readonly PolicyResource[], set: readonly string[], key: string, to: PolicyResource) =>
  ofTypes(rs, set).filter((r) => refersTo(r, key, to));

// --- the graph rules of policy/*.ts ----------------------------------------------------------------------

/** The stack as the graph rules read it: type, name, resolved properties, the id where the provider gave one. */
export function graphOf(rs: readonly PolicyResource[]): GraphResource[] {
  return rs.map((r) => ({
    type: r.type,
    name: r.name,
    inputs: r.props,
    ...(typeof r.props.id === "string" ? { id: r.props.id } : {}),
  }));
}

/** Reports each Problem of a graph rule (field `type::name`) against its resource's URN. */
export function reportProblems(rs: readonly PolicyResource[], problems: Problem[], report: ReportViolation): void {
  const urns = new Map(rs.map((r) => [`${r.type}::${r.name}`, r.urn]));
  for (const p of problems) report(p.message, urns.get(p.field));
}
