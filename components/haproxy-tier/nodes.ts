// The HAProxy nodes: their role (SSM Session Manager and their own boot parameters), a launch template and
// an Auto Scaling group registered in the NLB's target group.
//
// Why a group and not plain instances: a replaced node must leave only once its successor is healthy in the
// NLB. The group's instance maintenance policy and instance refresh (min healthy 100%) launch the successor
// first and terminate the old node only once the new one is healthy, and the group's health is the NLB's
// check (healthCheckType ELB), which the node's health URI fails while it reaches no service host
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html,
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html). AWS enforces it
// for every replacement (refresh, health, rebalancing), not only while `pulumi up` runs. A new config or
// image is a new launch template version that the refresh rolls one node at a time; so is a new secrets
// revision (an instance tag of the template's data), each new node reading the new values at its boot. On creation the provider
// waits for the nodes to be InService in the target group (minElbCapacity), so a stack that still holds
// plain node instances deletes them, at the end of that update, only after the group's nodes serve.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ec2Role } from "../_shared/ec2Role";
import { hardenedLaunchTemplateArgs } from "../_shared/hardenedInstance";
import { nodePolicy, oneAtATimeMaxHealthyPercentage } from "./rules";
import { secretsRevisionTagKey } from "../fleet/rules";
import { encodeUserData } from "../../host/userData";

export interface HaproxyNodesArgs {
  count: number;
  amiId: pulumi.Input<string>;
  /** Root device name of the image (getAmi's rootDeviceName). */
  rootDeviceName: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  userData: pulumi.Input<string>;
  rootVolumeGb: pulumi.Input<number>;
  /** The NLB's target group the nodes register in. */
  targetGroupArn: pulumi.Input<string>;
  /** Time a new node has to boot and pass the NLB's check, seconds: grace period and warm-up. */
  bootSec: pulumi.Input<number>;
  serviceName: string;
  env: string;
  tags: Record<string, string>;
  /** Prefix of the nodes' Name tag. */
  fleetTag: string;
  /** The SSM parameters a node reads at boot (Datadog API key, Papertrail destination). */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /** The key encrypting them; undefined: the AWS managed key aws/ssm. */
  kmsKeyArn: pulumi.Input<string> | undefined;
  /** Secrets revision (Secrets.revision), the instance tag secretsRevisionTagKey; undefined: no such tag. */
  secretsRevision?: pulumi.Input<string>;
}

/** The role and profile `<name>-node`, the launch template `<name>-node` and the group `<name>-nodes`. */
export function haproxyNodes(
  name: string,
  a: HaproxyNodesArgs,
  parent: pulumi.Resource,
): { group: aws.autoscaling.Group; role: aws.iam.Role } {
  const region = aws.getRegionOutput({}, { parent });
  const { role, profile } = ec2Role(
    `${name}-node`,
    {
      description: `HAProxy nodes of ${a.serviceName} (${a.env}): SSM Session Manager and their own boot parameters`,
      policy: pulumi
        .all([a.parameterArns, a.kmsKeyArn, region.region])
        .apply(([parameterArns, kmsKeyArn, r]) => nodePolicy({ parameterArns, kmsKeyArn, region: r })),
      tags: a.tags,
      // The names these resources had before the shared builder: a stack that holds them keeps them.
      names: { policy: `${name}-node-params` },
    },
    { parent },
  );
  const instanceTags = { ...a.tags, Name: `${a.fleetTag}-haproxy`, Role: "haproxy" };
  const lt = new aws.ec2.LaunchTemplate(
    `${name}-node`,
    {
      imageId: a.amiId,
      instanceType: a.instanceType,
      // Gzipped, as the service hosts' (cloud-init unpacks it): as text, prod's cloud-config is above EC2's 16 KB.
      userData: pulumi.output(a.userData).apply(encodeUserData),
      iamInstanceProfile: { arn: profile.arn },
      ...hardenedLaunchTemplateArgs({
        rootVolumeGb: a.rootVolumeGb,
        rootDeviceName: a.rootDeviceName,
        securityGroupIds: [a.securityGroupId],
      }),
      monitoring: { enabled: true },
      tagSpecifications: [
        {
          resourceType: "instance",
          // Template data: a new revision is a new version, which the refresh rolls out node by node.
          tags:
            a.secretsRevision === undefined
              ? instanceTags
              : pulumi.output(a.secretsRevision).apply((r) => ({ ...instanceTags, [secretsRevisionTagKey]: r })),
        },
        { resourceType: "volume", tags: a.tags },
      ],
      updateDefaultVersion: true,
      tags: a.tags,
    },
    { parent },
  );
  const healthy = { minHealthyPercentage: 100, maxHealthyPercentage: oneAtATimeMaxHealthyPercentage(a.count) };
  const group = new aws.autoscaling.Group(
    `${name}-nodes`,
    {
      vpcZoneIdentifiers: a.subnetIds,
      minSize: a.count,
      maxSize: a.count,
      desiredCapacity: a.count,
      // A numbered version: each change is a new desired configuration the refresh rolls out.
      launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
      targetGroupArns: [a.targetGroupArn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: a.bootSec,
      defaultInstanceWarmup: a.bootSec,
      instanceMaintenancePolicy: healthy,
      instanceRefresh: { strategy: "Rolling", preferences: { ...healthy, skipMatching: false } },
      // Creation (and the move from plain instances) returns once every node is InService in the NLB.
      minElbCapacity: a.count,
      waitForCapacityTimeout: "20m",
      terminationPolicies: ["OldestLaunchTemplate", "OldestInstance"],
      enabledMetrics: [
        "GroupDesiredCapacity",
        "GroupInServiceInstances",
        "GroupPendingInstances",
        "GroupTerminatingInstances",
      ],
      tags: Object.entries(instanceTags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    },
    { parent },
  );
  return { group, role };
}
