// Pure rules of the Fleet component (no Pulumi import).
import { Problem } from "../../contract/problem";

/** Debian's own AWS account, publisher of the official Debian AMIs. */
export const debianOwnerId = "136693071363";
export const debian12NamePattern = "debian-12-amd64-*";

/** The official Debian 12 image name pattern of a CPU architecture (x64 as Node names it, arm64 for Graviton). */
export function debian12NamePatternFor(architecture: "x64" | "arm64"): string {
  return architecture === "arm64" ? "debian-12-arm64-*" : debian12NamePattern;
}

/** The instance role's inline policy: read this service's releases, its runtime and parameters, nothing else. */
export function instancePolicy(a: {
  bundleBucketArn: string;
  parameterArns: string[];
  kmsKeyArn: string;
  region: string;
}): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      // The bundle's two prefixes: the releases and the Node runtime (components/bundle/rules.ts), nothing else.
      {
        Sid: "ReadReleases",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: [`${a.bundleBucketArn}/releases/*`, `${a.bundleBucketArn}/runtimes/*`],
      },
      {
        Sid: "ReadOwnParameters",
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: a.parameterArns,
      },
      {
        Sid: "DecryptOwnParametersViaSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: a.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `ssm.${a.region}.amazonaws.com` } },
      },
      // The Datadog agent's collect_ec2_tags (host/datadog.ts) falls back to the EC2 API when instance metadata
      // has no tags; ec2:DescribeTags takes no resource ARN or condition key, hence "*".
      { Sid: "ReadInstanceTags", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" },
    ],
  });
}

/**
 * Tag of the Auto Scaling group that names it to IAM: the instance role may complete lifecycle actions only on
 * the group carrying its own fleet's value. A tag, not the group's name: the name is the provider's until the
 * group exists, and the permission must exist before the group launches its first instance.
 */
export const fleetTagKey = "node-service-aws:fleet";

/** Instance tag naming the secrets revision a host booted with (FleetArgs.secretsRevision). */
export const secretsRevisionTagKey = "node-service-aws:secrets-revision";

/**
 * What a host needs to complete its group's launch hook (host/lifecycle.ts): find its group
 * (DescribeAutoScalingInstances takes no resource, like every Describe action: AWS's Auto Scaling identity-based
 * policy examples) and complete the action on the group tagged with this fleet's value only
 * (autoscaling:ResourceTag/<key>: docs.aws.amazon.com/autoscaling/ec2/userguide/tag-security.html), in this
 * account and region (arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:<id>:autoScalingGroupName/<name>).
 */
export function launchHookPolicy(a: { partition: string; region: string; accountId: string; fleet: string }): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "FindOwnGroup", Effect: "Allow", Action: "autoscaling:DescribeAutoScalingInstances", Resource: "*" },
      {
        Sid: "CompleteOwnGroupsLaunchHook",
        Effect: "Allow",
        Action: "autoscaling:CompleteLifecycleAction",
        Resource: `arn:${a.partition}:autoscaling:${a.region}:${a.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${fleetTagKey}`]: a.fleet } },
      },
    ],
  });
}

/** Problems with the Fleet's numbers that are known when it is constructed (Outputs are checked as they resolve). */
export function checkFleetArgs(a: {
  lifecycleHookTimeoutSec?: unknown;
  warmPoolMaxPreparedCapacity?: unknown;
}): Problem[] {
  const problems: Problem[] = [];
  const known = (v: unknown): v is number => typeof v === "number";
  // HeartbeatTimeout: 30 to 7200 seconds (PutLifecycleHook API reference; the provider validates the same range).
  if (
    known(a.lifecycleHookTimeoutSec) &&
    !(
      Number.isInteger(a.lifecycleHookTimeoutSec) &&
      a.lifecycleHookTimeoutSec >= 30 &&
      a.lifecycleHookTimeoutSec <= 7200
    )
  )
    problems.push({
      field: "lifecycleHookTimeoutSec",
      message: `${a.lifecycleHookTimeoutSec} must be a whole number of seconds from 30 to 7200`,
    });
  if (
    known(a.warmPoolMaxPreparedCapacity) &&
    !(Number.isInteger(a.warmPoolMaxPreparedCapacity) && a.warmPoolMaxPreparedCapacity > 0)
  )
    problems.push({
      field: "warmPoolMaxPreparedCapacity",
      message: `${a.warmPoolMaxPreparedCapacity} must be a whole number above 0 (in-service plus warm instances)`,
    });
  return problems;
}

/**
 * The waiter's timeout must outlast what the refresh spends by design: every checkpoint's pause, a warm-up, and a
 * launch hook's full timeout (an instance that never gets ready is abandoned only then). Only when all are known.
 */
export function checkRefreshTimeout(a: {
  refreshTimeoutSec: unknown;
  checkpointPercentages: unknown;
  checkpointDelaySec: unknown;
  instanceWarmupSec: unknown;
  lifecycleHookTimeoutSec: unknown;
}): Problem[] {
  const {
    refreshTimeoutSec: t,
    checkpointPercentages: c,
    checkpointDelaySec: d,
    instanceWarmupSec: w,
    lifecycleHookTimeoutSec: h,
  } = a;
  if (
    typeof t !== "number" ||
    !Array.isArray(c) ||
    typeof d !== "number" ||
    typeof w !== "number" ||
    typeof h !== "number"
  )
    return [];
  const floor = c.length * d + w + h;
  if (Number.isInteger(t) && t >= floor) return [];
  return [
    {
      field: "refreshTimeoutSec",
      message: `${t} is shorter than the refresh's own pauses and waits: ${c.length} checkpoints × ${d} s + ${w} s warm-up + ${h} s launch hook = ${floor} s; give at least that`,
    },
  ];
}
