// The EC2 fleet of the service: launch template + Auto Scaling group in private subnets, an instance
// role with least privilege, request-based target tracking, and instance refresh that launches new
// instances before it terminates old ones and rolls back when an alarm fires.
import { encodeUserData } from "../../host/userData";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ServiceSettings, serviceDefaults } from "../../contract/service";
import { hardenedLaunchTemplateArgs } from "../_shared/hardenedInstance";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { serviceHostRole } from "./hostRole";
import { debianImage } from "./image";
import { debian12NamePattern, debianOwnerId, instancePolicy } from "./rules";
export { debian12NamePattern, debianOwnerId, instancePolicy };

export interface FleetArgs {
  /** VPC of the instances' security group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least 2 AZs. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** cloud-init user-data in clear text (it holds no secret); base64-encoded here. */
  userData: pulumi.Input<string>;
  /** Service settings (contract/service.ts): the port the load balancer reaches. Default serviceDefaults. */
  service?: ServiceSettings;
  /** Explicit AMI id; wins over amiName. Default none. */
  amiId?: pulumi.Input<string>;
  /** Name (or pattern) of an official Debian AMI. Default debian-12-amd64-* (the most recent). */
  amiName?: pulumi.Input<string>;
  /** EC2 instance type. Default t3.small. */
  instanceType?: pulumi.Input<string>;
  /** Size of the encrypted gp3 root volume, GB. Default 8. */
  rootVolumeGb?: pulumi.Input<number>;
  /** Fewest instances. Default 2. */
  minSize?: pulumi.Input<number>;
  /** Most instances. Default 4. */
  maxSize?: pulumi.Input<number>;
  /** Initial size only: later changes (scaling) are kept across deploys. Default minSize. */
  desiredCapacity?: pulumi.Input<number>;
  /** Target group the instances register with. */
  targetGroupArn: pulumi.Input<string>;
  /** The load balancer's security group: the only source of the service port. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  /** For the ALBRequestCountPerTarget resource label. */
  loadBalancerArnSuffix: pulumi.Input<string>;
  /** For the ALBRequestCountPerTarget resource label. */
  targetGroupArnSuffix: pulumi.Input<string>;
  /** Target of the tracking policy, requests per target per minute. Default 1000. */
  requestsPerTarget?: pulumi.Input<number>;
  /** Time a new instance has to boot before ELB health counts, seconds. Default 300. */
  healthCheckGracePeriodSec?: pulumi.Input<number>;
  /** Warm-up of a new instance for refresh and scaling, seconds. Default 120. */
  instanceWarmupSec?: pulumi.Input<number>;
  /** Percentages of the refresh after which it pauses; the last must be 100. Default [50, 100]. */
  checkpointPercentages?: pulumi.Input<number>[];
  /** Pause at each checkpoint, seconds. Default 300. */
  checkpointDelaySec?: pulumi.Input<number>;
  /** Max healthy percentage during a refresh, above 100 so new instances start first. Default 200. */
  maxHealthyPercentage?: pulumi.Input<number>;
  /** CloudWatch alarms that fail and roll back an instance refresh (from the observability component). Default none. */
  rollbackAlarmNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** Pre-initialized stopped instances, so scale-out skips the boot. Plain: it adds a resource block. Default false. */
  warmPool?: boolean;
  /** Instances kept in the warm pool. Default 1. */
  warmPoolMinSize?: pulumi.Input<number>;
  /** Bucket of the service bundle; the role may read only releases/* in it. */
  bundleBucketArn: pulumi.Input<string>;
  /** The service's own SSM parameters. */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /** The key that encrypts the parameters; decryption only through SSM. */
  kmsKeyArn: pulumi.Input<string>;
  /** Tags of every resource, propagated to the instances and volumes. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class Fleet extends pulumi.ComponentResource {
  /** Name of the Auto Scaling group. */
  public readonly autoScalingGroupName: pulumi.Output<string>;
  /** Id of the launch template. */
  public readonly launchTemplateId: pulumi.Output<string>;
  /** The launch template version the group runs (each change is a new version and an instance refresh). */
  public readonly launchTemplateVersion: pulumi.Output<number>;
  /** Security group of the instances. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Name of the instances' IAM role. */
  public readonly roleName: pulumi.Output<string>;
  /** The Debian AMI the instances boot. */
  public readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Fleet"), name, {}, withFormerType("node-service:fleet:Fleet", opts));
    if (Array.isArray(args.subnetIds) && args.subnetIds.length < 2)
      throw new pulumi.RunError(`Fleet ${name}: subnetIds: ${args.subnetIds.length} given; at least 2, in different AZs, so one AZ can fail`);
    const port = (args.service ?? serviceDefaults).port;
    const image = debianImage({ amiId: args.amiId, amiName: args.amiName }, { parent: this });
    const { role, profile } = serviceHostRole(name, args, { parent: this });

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
      // gzipped: the service host's cloud-config is above EC2's 16 KB as text; cloud-init unpacks it
      userData: pulumi.output(args.userData).apply(encodeUserData),
      iamInstanceProfile: { arn: profile.arn },
      ...hardenedLaunchTemplateArgs({ rootVolumeGb: args.rootVolumeGb ?? 8, rootDeviceName: image.rootDeviceName, securityGroupIds: [sg.id] }),
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
