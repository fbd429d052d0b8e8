// The EC2 fleet of the service: launch template + Auto Scaling group in private subnets, an instance
// role with least privilege, request-based target tracking, and instance refresh that launches new
// instances before it terminates old ones and rolls back when an alarm fires.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { serviceDefaults } from "../../contract/service";
import { debian12NamePattern, debianOwnerId, instancePolicy } from "./rules";
export { debian12NamePattern, debianOwnerId, instancePolicy };

export interface FleetArgs {
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least 2 AZs. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** cloud-init user-data in clear text (it holds no secret); base64-encoded here. */
  userData: pulumi.Input<string>;
  /** Explicit AMI id; wins over amiName. */
  amiId?: pulumi.Input<string>;
  /** Name (or pattern) of an official Debian AMI; default debian-12-amd64-* (most recent). */
  amiName?: pulumi.Input<string>;
  instanceType?: pulumi.Input<string>;
  rootVolumeGb?: pulumi.Input<number>;
  minSize?: pulumi.Input<number>;
  maxSize?: pulumi.Input<number>;
  /** Initial size only: later changes (scaling) are kept across deploys. */
  desiredCapacity?: pulumi.Input<number>;
  servicePort?: pulumi.Input<number>;
  targetGroupArn: pulumi.Input<string>;
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  /** For the ALBRequestCountPerTarget resource label. */
  loadBalancerArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  /** Target of the tracking policy, requests per target per minute. Default 1000. */
  requestsPerTarget?: pulumi.Input<number>;
  healthCheckGracePeriodSec?: pulumi.Input<number>;
  instanceWarmupSec?: pulumi.Input<number>;
  /** Percentages of the refresh after which it pauses; the last must be 100. Default [50, 100]. */
  checkpointPercentages?: pulumi.Input<number>[];
  checkpointDelaySec?: pulumi.Input<number>;
  /** Max healthy percentage during a refresh, above 100 so new instances start first. Default 200. */
  maxHealthyPercentage?: pulumi.Input<number>;
  /** CloudWatch alarms that fail and roll back an instance refresh (from the observability component). */
  rollbackAlarmNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** Pre-initialized stopped instances, so scale-out skips the boot. Plain: it adds a resource block. */
  warmPool?: boolean;
  warmPoolMinSize?: pulumi.Input<number>;
  /** Bucket of the service bundle; the role may read only releases/* in it. */
  bundleBucketArn: pulumi.Input<string>;
  /** The service's own SSM parameters and the key that encrypts them. */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
  kmsKeyArn: pulumi.Input<string>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The official Debian image: by id when given (checked to be Debian's), else the newest matching amiName. */
export function debianImage(a: { amiId?: pulumi.Input<string>; amiName?: pulumi.Input<string> }, opts: pulumi.InvokeOutputOptions) {
  return aws.ec2.getAmiOutput({
    owners: [debianOwnerId],
    mostRecent: true,
    filters: [
      a.amiId !== undefined ? { name: "image-id", values: [a.amiId] } : { name: "name", values: [a.amiName ?? debian12NamePattern] },
      { name: "architecture", values: ["x86_64"] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "root-device-type", values: ["ebs"] },
    ],
  }, opts);
}

/**
 * The service hosts' role and instance profile: SSM Session Manager instead of SSH, read of the bundle's
 * releases/ prefix, of the service's own parameters, and decryption of them through SSM only.
 */
export function instanceRole(
  name: string,
  a: { bundleBucketArn: pulumi.Input<string>; parameterArns: pulumi.Input<pulumi.Input<string>[]>; kmsKeyArn: pulumi.Input<string>; tags?: pulumi.Input<Record<string, pulumi.Input<string>>> },
  opts: { parent?: pulumi.Resource },
): { role: aws.iam.Role; profile: aws.iam.InstanceProfile } {
  const region = aws.getRegionOutput({}, opts);
  const partition = aws.getPartitionOutput({}, opts);
  const role = new aws.iam.Role(`${name}-role`, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
    tags: a.tags,
  }, opts);
  new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, {
    role: role.name, policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
  }, opts);
  new aws.iam.RolePolicy(`${name}-service`, {
    role: role.id,
    policy: pulumi.all([a.bundleBucketArn, a.parameterArns, a.kmsKeyArn, region.region])
      .apply(([bundleBucketArn, parameterArns, kmsKeyArn, r]) => instancePolicy({ bundleBucketArn, parameterArns, kmsKeyArn, region: r })),
  }, opts);
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: a.tags }, opts);
  return { role, profile };
}

export class Fleet extends pulumi.ComponentResource {
  readonly autoScalingGroupName: pulumi.Output<string>;
  readonly launchTemplateId: pulumi.Output<string>;
  readonly launchTemplateVersion: pulumi.Output<number>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;
  readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Fleet"), name, {}, withFormerType("node-service:fleet:Fleet", opts));
    if (Array.isArray(args.subnetIds) && args.subnetIds.length < 2)
      throw new pulumi.RunError(`Fleet ${name}: subnetIds: ${args.subnetIds.length} given; at least 2, in different AZs, so one AZ can fail`);
    const port = args.servicePort ?? serviceDefaults.port;
    const image = debianImage({ amiId: args.amiId, amiName: args.amiName }, { parent: this });
    const { role, profile } = instanceRole(name, args, { parent: this });

    const sg = new aws.ec2.SecurityGroup(`${name}-instances`, { vpcId: args.vpcId, description: "Service instances: the service port from the load balancer only", tags: args.tags }, { parent: this });
    new aws.vpc.SecurityGroupIngressRule(`${name}-from-lb`, {
      securityGroupId: sg.id, referencedSecurityGroupId: args.loadBalancerSecurityGroupId, ipProtocol: "tcp", fromPort: port, toPort: port,
      description: "Service port from the load balancer (traffic and health checks)",
    }, { parent: this });
    new aws.vpc.SecurityGroupEgressRule(`${name}-lb-to-instances`, {
      securityGroupId: args.loadBalancerSecurityGroupId, referencedSecurityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port,
      description: "Load balancer to the service port of the instances",
    }, { parent: this });
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress`, {
      securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 1, toPort: 65535,
      description: "Outbound TCP: packages, SSM, S3, Datadog, and Papertrail (whose port is part of a secret)",
    }, { parent: this });

    const lt = new aws.ec2.LaunchTemplate(`${name}-lt`, {
      imageId: image.id,
      instanceType: args.instanceType ?? "t3.small",
      userData: pulumi.output(args.userData).apply((u) => Buffer.from(u, "utf8").toString("base64")),
      iamInstanceProfile: { arn: profile.arn },
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", deleteOnTermination: "true", securityGroups: [sg.id] }],
      blockDeviceMappings: [{
        deviceName: image.rootDeviceName,
        ebs: { volumeType: "gp3", volumeSize: args.rootVolumeGb ?? 8, encrypted: "true", deleteOnTermination: "true" },
      }],
      tagSpecifications: [
        { resourceType: "instance", tags: args.tags },
        { resourceType: "volume", tags: args.tags },
      ],
      updateDefaultVersion: true,
      tags: args.tags,
    }, { parent: this });

    const tagList = pulumi.output(args.tags ?? {}).apply((t) =>
      Object.entries({ Name: name, ...t }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })));
    const asg = new aws.autoscaling.Group(`${name}-asg`, {
      vpcZoneIdentifiers: args.subnetIds,
      minSize: args.minSize ?? 2,
      maxSize: args.maxSize ?? 4,
      desiredCapacity: args.desiredCapacity ?? args.minSize ?? 2,
      // A numbered version (not $Latest): every change is a new desired configuration that
      // instance refresh rolls out and can roll back.
      launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
      targetGroupArns: [args.targetGroupArn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: args.healthCheckGracePeriodSec ?? 300,
      defaultInstanceWarmup: args.instanceWarmupSec ?? 120,
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          minHealthyPercentage: 100,
          maxHealthyPercentage: args.maxHealthyPercentage ?? 200,
          instanceWarmup: pulumi.output(args.instanceWarmupSec ?? 120).apply(String),
          checkpointPercentages: args.checkpointPercentages ?? [50, 100],
          checkpointDelay: pulumi.output(args.checkpointDelaySec ?? 300).apply(String),
          skipMatching: false,
          autoRollback: true,
          alarmSpecification: args.rollbackAlarmNames !== undefined ? { alarms: args.rollbackAlarmNames } : undefined,
        },
      },
      warmPool: args.warmPool ? { poolState: "Stopped", minSize: args.warmPoolMinSize ?? 1, instanceReusePolicy: { reuseOnScaleIn: true } } : undefined,
      enabledMetrics: ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"],
      terminationPolicies: ["OldestLaunchTemplate", "OldestInstance"],
      waitForCapacityTimeout: "15m",
      tags: tagList,
    }, { parent: this, ignoreChanges: ["desiredCapacity"] });

    new aws.autoscaling.Policy(`${name}-requests`, {
      autoscalingGroupName: asg.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: pulumi.interpolate`${args.loadBalancerArnSuffix}/${args.targetGroupArnSuffix}`,
        },
        targetValue: args.requestsPerTarget ?? 1000,
      },
    }, { parent: this });

    this.autoScalingGroupName = asg.name;
    this.launchTemplateId = lt.id;
    this.launchTemplateVersion = lt.latestVersion;
    this.securityGroupId = sg.id;
    this.roleName = role.name;
    this.imageId = image.id;
    this.registerOutputs({
      autoScalingGroupName: this.autoScalingGroupName, launchTemplateId: this.launchTemplateId, launchTemplateVersion: this.launchTemplateVersion,
      securityGroupId: this.securityGroupId, roleName: this.roleName, imageId: this.imageId,
    });
  }
}
