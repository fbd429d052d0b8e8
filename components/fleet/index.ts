// The EC2 fleet of the service: launch template + Auto Scaling group in private subnets, an instance
// role with least privilege, request-based target tracking, and instance refresh that launches new
// instances before it terminates old ones and rolls back when an alarm fires.
import { encodeUserData } from "../../host/userData";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { defaultBootBudget } from "../../contract/boot";
import { serviceDefaults } from "../../contract/service";
import { hardenedLaunchTemplateArgs } from "../_shared/hardenedInstance";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { launchHookName } from "../../host/lifecycle";
import { formatProblem } from "../../contract/problem";
import { serviceHostRole } from "./hostRole";
import { debianImage } from "./image";
import { InstanceRefreshGuard, InstanceRefreshWaiter } from "./refresh";
import { instanceSecurityGroup } from "./securityGroup";
import { FleetArgs } from "./args";
export { FleetArgs };
import {
  checkFleetArgs,
  checkRefreshTimeout,
  debian12NamePattern,
  debianOwnerId,
  fleetTagKey,
  instancePolicy,
  launchHookPolicy,
  secretsRevisionTagKey,
} from "./rules";
export {
  secretsRevisionTagKey,
  checkFleetArgs,
  checkRefreshTimeout,
  debian12NamePattern,
  debianOwnerId,
  fleetTagKey,
  instancePolicy,
  launchHookPolicy,
};

/**
 * `dependsOn` for the resources the given ids were computed from: an Output's own resources are dependencies
 * too (@pulumi/pulumi runtime/dependsOn.ts, gatherExplicitDependencies).
 */
const after = (...ids: (pulumi.Input<pulumi.Input<string>[]> | undefined)[]) =>
  pulumi.all(ids.map((i) => pulumi.output(i ?? []))).apply((): pulumi.Resource[] => []);

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
  /** Name of the group's launch lifecycle hook, which every instance completes once it is ready. */
  public readonly launchHookName: pulumi.Output<string>;
  /**
   * The launch template version the group runs: resolves only once the instance refresh of it succeeded (or the group
   * was created with it). An update whose refresh fails or rolls back fails, and this keeps the last released version.
   */
  public readonly releasedLaunchTemplateVersion: pulumi.Output<string>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Fleet"), name, {}, withFormerType("node-service:fleet:Fleet", opts));
    if (Array.isArray(args.subnetIds) && args.subnetIds.length < 2)
      throw new pulumi.RunError(
        `Fleet ${name}: subnetIds: ${args.subnetIds.length} given; at least 2, in different AZs, so one AZ can fail`,
      );
    const refreshTimeoutSec = args.refreshTimeoutSec ?? 3600;
    const problems = [
      ...checkFleetArgs(args),
      ...checkRefreshTimeout({
        refreshTimeoutSec,
        checkpointPercentages: args.checkpointPercentages ?? [50, 100],
        checkpointDelaySec: args.checkpointDelaySec ?? 300,
        instanceWarmupSec: args.instanceWarmupSec ?? 120,
        lifecycleHookTimeoutSec: args.lifecycleHookTimeoutSec ?? defaultBootBudget.lifecycleHookTimeoutSec,
      }),
    ];
    if (problems.length) throw new pulumi.RunError(`Fleet ${name}: ${problems.map(formatProblem).join("; ")}`);
    const service = args.service ?? serviceDefaults;
    const port = service.port;
    const architecture = args.architecture ?? "x64";
    if (architecture !== "x64" && architecture !== "arm64")
      throw new pulumi.RunError(`Fleet ${name}: architecture "${architecture}" must be "x64" or "arm64"`);
    const image = debianImage({ amiId: args.amiId, amiName: args.amiName, architecture }, { parent: this });
    const { role, profile } = serviceHostRole(name, args, { parent: this });
    // The group's identity for IAM, known before the group exists (its name is not): project, stack and component.
    const fleet = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const [region, caller, partition] = [
      aws.getRegionOutput({}, { parent: this }),
      aws.getCallerIdentityOutput({}, { parent: this }),
      aws.getPartitionOutput({}, { parent: this }),
    ];
    const hookPolicy = new aws.iam.RolePolicy(
      `${name}-launch-hook`,
      {
        role: role.id,
        policy: pulumi
          .all([partition.partition, region.region, caller.accountId])
          .apply(([p, r, acct]) => launchHookPolicy({ partition: p, region: r, accountId: acct, fleet })),
      },
      { parent: this },
    );

    const sg = instanceSecurityGroup(
      name,
      {
        vpcId: args.vpcId,
        port,
        loadBalancerSecurityGroupId: args.loadBalancerSecurityGroupId,
        papertrailPort: args.papertrailPort,
        tags: args.tags,
      },
      this,
    );

    const lt = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        imageId: image.id,
        instanceType: args.instanceType ?? "t3.small",
        // gzipped: the service host's cloud-config is above EC2's 16 KB as text; cloud-init unpacks it
        userData: pulumi.output(args.userData).apply(encodeUserData),
        iamInstanceProfile: { arn: profile.arn },
        ...hardenedLaunchTemplateArgs({
          rootVolumeGb: args.rootVolumeGb ?? 8,
          rootDeviceName: image.rootDeviceName,
          securityGroupIds: [sg.id],
        }),
        tagSpecifications: [
          {
            resourceType: "instance",
            // Template data, unlike the resource's own `tags`: a change creates a new version
            // (terraform-provider-aws launch_template.go resourceLaunchTemplateUpdate, updateKeys).
            tags:
              args.secretsRevision === undefined
                ? args.tags
                : pulumi
                    .all([args.tags ?? {}, args.secretsRevision])
                    .apply(([t, r]) => ({ ...t, [secretsRevisionTagKey]: r })),
          },
          { resourceType: "volume", tags: args.tags },
        ],
        updateDefaultVersion: true,
        tags: args.tags,
      },
      { parent: this },
    );

    const tagList = pulumi
      .output(args.tags ?? {})
      .apply((t) => [
        ...Object.entries({ Name: name, ...t }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        { key: fleetTagKey, value: fleet, propagateAtLaunch: false },
      ]);
    // Every launch waits in Pending:Wait (Warmed:Pending:Wait into the warm pool) until the host completes the hook;
    // not completed in time, it is abandoned: terminated and replaced, never put in service or in the pool half-booted.
    const hook = {
      name: launchHookName(service.name),
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
      defaultResult: "ABANDON",
      heartbeatTimeout: pulumi
        .output(args.lifecycleHookTimeoutSec ?? defaultBootBudget.lifecycleHookTimeoutSec)
        .apply((t) => {
          const p = checkFleetArgs({ lifecycleHookTimeoutSec: t });
          if (p.length) throw new pulumi.RunError(`Fleet ${name}: ${p.map(formatProblem).join("; ")}`);
          return t;
        }),
    };
    const minSize = args.minSize ?? 2;
    const warmPoolMinSize = args.warmPoolMinSize ?? 1;
    // Before the group's update starts a new refresh (which would cancel a running one): wait while one is active.
    const version = lt.latestVersion.apply(String);
    const refresh = { region: region.region, timeoutSec: refreshTimeoutSec, pollSec: 15 };
    const guard = new InstanceRefreshGuard(
      `${name}-refresh-guard`,
      { ...refresh, tagKey: fleetTagKey, tagValue: fleet, launchTemplateVersion: version },
      { parent: this },
    );
    const asg = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        vpcZoneIdentifiers: args.subnetIds,
        minSize,
        maxSize: args.maxSize ?? 4,
        desiredCapacity: args.desiredCapacity ?? minSize,
        // Put on the group before its first launch (the provider creates it empty, puts the hooks, then sizes it).
        initialLifecycleHooks: [hook],
        // A numbered version (not $Latest): every change is a new desired configuration that
        // instance refresh rolls out and can roll back.
        launchTemplate: { id: lt.id, version },
        targetGroupArns: [args.targetGroupArn],
        healthCheckType: "ELB",
        healthCheckGracePeriod: args.healthCheckGracePeriodSec ?? defaultBootBudget.healthCheckGracePeriodSec,
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
        warmPool: args.warmPool
          ? {
              poolState: "Stopped",
              minSize: warmPoolMinSize,
              instanceReusePolicy: { reuseOnScaleIn: true },
              maxGroupPreparedCapacity:
                args.warmPoolMaxPreparedCapacity ?? pulumi.all([minSize, warmPoolMinSize]).apply(([a, b]) => a + b),
            }
          : undefined,
        enabledMetrics: [
          "GroupDesiredCapacity",
          "GroupInServiceInstances",
          "GroupPendingInstances",
          "GroupTerminatingInstances",
          "GroupTotalInstances",
        ],
        terminationPolicies: ["OldestLaunchTemplate", "OldestInstance"],
        waitForCapacityTimeout: "15m",
        tags: tagList,
      },
      {
        parent: this,
        // initialLifecycleHooks is ForceNew and applied at creation only: the LifecycleHook below owns the hook after.
        ignoreChanges: ["desiredCapacity", "initialLifecycleHooks"],
        dependsOn: after(args.listenerArns, args.privateEgress).apply((d) => [...d, hookPolicy, guard]),
      },
    );
    // The same hook as its own resource: a group created before the hook gets it, and timeout changes reach it
    // (PutLifecycleHook creates or updates: terraform-provider-aws lifecycle_hook.go).
    const launchHook = new aws.autoscaling.LifecycleHook(
      `${name}-launch`,
      { autoscalingGroupName: asg.name, ...hook },
      { parent: this },
    );
    // After it: the update succeeds only when the refresh it started did.
    const waiter = new InstanceRefreshWaiter(
      `${name}-refresh`,
      {
        ...refresh,
        autoScalingGroupName: asg.name,
        launchTemplateId: lt.id,
        launchTemplateVersion: version,
      },
      { parent: this, dependsOn: [asg] },
    );

    new aws.autoscaling.Policy(
      `${name}-requests`,
      {
        autoscalingGroupName: asg.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: pulumi.interpolate`${args.loadBalancerArnSuffix}/${args.targetGroupArnSuffix}`,
          },
          targetValue: args.requestsPerTarget ?? 1000,
        },
      },
      { parent: this, dependsOn: after(args.listenerArns) },
    );

    this.autoScalingGroupName = asg.name;
    this.launchTemplateId = lt.id;
    this.launchTemplateVersion = lt.latestVersion;
    this.securityGroupId = sg.id;
    this.roleName = role.name;
    this.imageId = image.id;
    this.launchHookName = launchHook.name;
    this.releasedLaunchTemplateVersion = waiter.launchTemplateVersion;
    this.registerOutputs({
      autoScalingGroupName: this.autoScalingGroupName,
      launchTemplateId: this.launchTemplateId,
      launchTemplateVersion: this.launchTemplateVersion,
      securityGroupId: this.securityGroupId,
      roleName: this.roleName,
      imageId: this.imageId,
      launchHookName: this.launchHookName,
      releasedLaunchTemplateVersion: this.releasedLaunchTemplateVersion,
    });
  }
}
