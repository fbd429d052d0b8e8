// Pure rules of the HaproxyTier component (no Pulumi import).
import type { Problem } from "../../contract/problem";
import type { HaproxyTierArgs } from "./index";

/**
 * The HAProxy nodes' inline policy: read their own boot parameters and, when the parameters are under the
 * stack's own key, decrypt them with it only in calls SSM makes for the node (`kms:ViaService`), never
 * directly. Without `kmsKeyArn` the parameters are under the AWS managed key aws/ssm, whose key policy
 * already lets the account's principals use it through SSM.
 */
export function nodePolicy(a: { parameterArns: string[]; kmsKeyArn?: string; region: string }): string {
  const statements: object[] = [
    { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: a.parameterArns },
    // The Datadog agent's collect_ec2_tags falls back to the EC2 API; the action takes no resource scope.
    { Sid: "ReadInstanceTags", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" },
  ];
  if (a.kmsKeyArn !== undefined)
    statements.push({
      Sid: "DecryptOwnParametersViaSsm",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `ssm.${a.region}.amazonaws.com` } },
    });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Max healthy percentage that lets an Auto Scaling group of `count` nodes run exactly one node above its size
 * while it replaces one (launch before terminate, one node at a time): 100 + ceil(100 / count), so that
 * floor(count * pct / 100) = count + 1. AWS takes 100-200 (API_InstanceMaintenancePolicy).
 */
export function oneAtATimeMaxHealthyPercentage(count: number): number {
  return Math.min(200, 100 + Math.ceil(100 / count));
}

/** The length of a list given as a plain array; undefined while it is still an Output. */
function knownLength(list: unknown): number | undefined {
  return Array.isArray(list) ? list.length : undefined;
}

/** Problems with the tier's subnet lists, for the lengths known so far (undefined: not known yet). */
export function checkSubnetCounts(a: {
  highAvailability: boolean;
  privateSubnets?: number;
  publicSubnets?: number;
}): Problem[] {
  const errors: Problem[] = [];
  if (a.privateSubnets !== undefined && a.highAvailability && a.privateSubnets < 2)
    errors.push({
      field: "privateSubnetIds",
      message: `${a.privateSubnets} with highAvailability; at least 2 (two AZs) so one AZ can fail`,
    });
  if (a.privateSubnets !== undefined && a.privateSubnets < 1)
    errors.push({ field: "privateSubnetIds", message: "at least one subnet is required" });
  if (a.publicSubnets !== undefined && a.publicSubnets < 1)
    errors.push({ field: "publicSubnetIds", message: "at least one subnet is required for the NLB" });
  return errors;
}

/** Problems with a HaproxyTierArgs combination, each naming the argument; empty when valid. */
export function checkHaproxyTierArgs(a: HaproxyTierArgs): Problem[] {
  const errors: Problem[] = [];
  const highAvailability = a.highAvailability ?? false;
  const nodes = a.nodeCount ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1)
    errors.push({ field: "nodeCount", message: `${nodes} must be a positive integer` });
  if (highAvailability && nodes < 2)
    errors.push({
      field: "nodeCount",
      message: `${nodes} with highAvailability; at least 2 so no HAProxy node is a single point of failure`,
    });
  errors.push(
    ...checkSubnetCounts({
      highAvailability,
      privateSubnets: knownLength(a.privateSubnetIds),
      publicSubnets: knownLength(a.publicSubnetIds),
    }),
  );
  if (!Number.isInteger(a.fleetInstanceCount) || a.fleetInstanceCount < 1)
    errors.push({ field: "fleetInstanceCount", message: `${a.fleetInstanceCount} must be a positive integer` });
  if (highAvailability && a.fleetInstanceCount < 2)
    errors.push({ field: "fleetInstanceCount", message: `${a.fleetInstanceCount} with highAvailability; at least 2` });
  const rolling = a.fleetImageRolloutHosts ?? [];
  for (const i of rolling)
    if (!Number.isInteger(i) || i < 0 || i >= a.fleetInstanceCount)
      errors.push({
        field: "fleetImageRolloutHosts",
        message: `${i} is not a host index (0-${a.fleetInstanceCount - 1})`,
      });
  if (new Set(rolling).size >= a.fleetInstanceCount && rolling.length > 0)
    errors.push({
      field: "fleetImageRolloutHosts",
      message: `${new Set(rolling).size} of ${a.fleetInstanceCount} hosts at once; leave at least one serving`,
    });
  const slots = a.serverSlots ?? 2 * a.fleetInstanceCount;
  if (slots < a.fleetInstanceCount)
    errors.push({
      field: "serverSlots",
      message: `${slots} must be at least fleetInstanceCount (${a.fleetInstanceCount})`,
    });
  if (a.accessLogs === true && a.certificateArn === undefined)
    errors.push({
      field: "accessLogs",
      message: "an NLB logs TLS connections only, and without certificateArn it listens on plain TCP: give both",
    });
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(a.env))
    errors.push({ field: "env", message: `"${a.env}" must be lowercase letters, digits or dashes` });
  return errors;
}

/**
 * Statements letting the NLB write access logs for this account into its bucket (under AWSLogs/<account>/, the
 * prefix being empty). NLB logs go through the log delivery service `delivery.logs.amazonaws.com`, not ELB's
 * principals: it checks the bucket's ACL, then writes with the `bucket-owner-full-control` ACL (the one ACL a
 * bucket with ACLs disabled accepts), both only on behalf of this account's log deliveries in this region
 * (aws:SourceAccount, aws:SourceArn: the confused-deputy guard)
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/enable-access-logs.html).
 */
export function nlbAccessLogDeliveryStatements(
  bucketArn: string,
  region: string,
  accountId: string,
  partition: string,
): object[] {
  const principal = { Service: "delivery.logs.amazonaws.com" };
  const onBehalfOfThisAccount = {
    StringEquals: { "aws:SourceAccount": accountId },
    ArnLike: { "aws:SourceArn": `arn:${partition}:logs:${region}:${accountId}:*` },
  };
  return [
    {
      Sid: "NlbLogDeliveryAclCheck",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:GetBucketAcl",
      Resource: bucketArn,
      Condition: onBehalfOfThisAccount,
    },
    {
      Sid: "NlbLogDelivery",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:PutObject",
      Resource: `${bucketArn}/AWSLogs/${accountId}/*`,
      Condition: {
        ...onBehalfOfThisAccount,
        StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": accountId },
      },
    },
  ];
}
