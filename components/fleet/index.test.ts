import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MOCK_AMI_ID, RecordedResource, runProgram, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { explicitDependencies } from "../../test/support/dependencies";
import { launchHookName } from "../../host/lifecycle";
import { defaultBootBudget } from "../../contract/boot";
import { Fleet, FleetArgs, debianOwnerId, fleetTagKey, secretsRevisionTagKey } from "./index";

const mocks = useMocks();

const minimal: FleetArgs = {
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  userData: "#cloud-config\n{}\n",
  targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1",
  loadBalancerSecurityGroupId: "sg-lb",
  loadBalancerArnSuffix: "app/lb/1",
  targetGroupArnSuffix: "targetgroup/tg/1",
  bundleBucketArn: "arn:aws:s3:::bundles",
  parameterArns: ["arn:aws:ssm:us-east-1:123456789012:parameter/svc/dev/a"],
  kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
};

const named = (type: string, name: string): RecordedResource => {
  const r = mocks.resources.find((x) => x.type === type && x.name === name);
  if (!r)
    throw new Error(
      `no ${type} named ${name}; have ${mocks
        .ofType(type)
        .map((x) => x.name)
        .join(", ")}`,
    );
  return r;
};

describe("Fleet", () => {
  it("on Graviton (architecture arm64), looks up Debian's arm64 image, the default name following the architecture", async () => {
    await runProgram(() => ({
      asg: new Fleet("graviton", { ...minimal, architecture: "arm64" }).autoScalingGroupName,
    }));
    const ami = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs.filters).toContainEqual({ name: "name", values: ["debian-12-arm64-*"] });
    expect(ami.inputs.filters).toContainEqual({ name: "architecture", values: ["arm64"] });
  });

  it("with minimal args: hardened launch template, ELB-checked ASG with a safe instance refresh, request tracking", async () => {
    const { options } = await runProgram(() => ({ asg: new Fleet("svc", minimal).autoScalingGroupName }));
    const lt = mocks.one("aws:ec2/launchTemplate:LaunchTemplate");
    expect(lt.inputs).toMatchObject({
      imageId: MOCK_AMI_ID,
      instanceType: "t3.small",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      networkInterfaces: [{ associatePublicIpAddress: "false", securityGroups: ["svc-instances-id"] }],
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", volumeSize: 8 } }],
      iamInstanceProfile: { arn: expect.stringContaining("instance-profile/svc-profile") },
    });
    expect(gunzipSync(Buffer.from(lt.inputs.userData, "base64")).toString()).toBe(minimal.userData); // gzipped, as cloud-init reads it
    const ami = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs).toMatchObject({ owners: [debianOwnerId], mostRecent: true });
    expect(ami.inputs.filters).toContainEqual({ name: "name", values: ["debian-12-amd64-*"] });
    expect(ami.inputs.filters).toContainEqual({ name: "architecture", values: ["x86_64"] });

    const asg = mocks.one("aws:autoscaling/group:Group");
    expect(asg.inputs).toMatchObject({
      minSize: 2,
      maxSize: 4,
      desiredCapacity: 2,
      healthCheckType: "ELB",
      healthCheckGracePeriod: defaultBootBudget.healthCheckGracePeriodSec,
      vpcZoneIdentifiers: ["subnet-a", "subnet-b"],
      launchTemplate: { id: "svc-lt-id", version: "1" },
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          minHealthyPercentage: 100,
          maxHealthyPercentage: 200,
          autoRollback: true,
          checkpointPercentages: [50, 100],
          instanceWarmup: "120",
          checkpointDelay: "300",
        },
      },
    });
    expect(asg.inputs.instanceRefresh.preferences.alarmSpecification).toBeUndefined();
    expect(asg.inputs.warmPool).toBeUndefined();
    expect(options.get("aws:autoscaling/group:Group::svc-asg")?.ignoreChanges).toContain("desiredCapacity");
    expect(mocks.one("aws:autoscaling/policy:Policy").inputs.targetTrackingConfiguration).toEqual({
      predefinedMetricSpecification: {
        predefinedMetricType: "ALBRequestCountPerTarget",
        resourceLabel: "app/lb/1/targetgroup/tg/1",
      },
      targetValue: 1000,
    });

    // Both boot timings come from the boot budget (contract/boot.ts) unless given.
    expect(mocks.one("aws:autoscaling/lifecycleHook:LifecycleHook").inputs.heartbeatTimeout).toBe(
      defaultBootBudget.lifecycleHookTimeoutSec,
    );

    const policy = JSON.parse(named("aws:iam/rolePolicy:RolePolicy", "svc-service").inputs.policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "ReadReleases",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: ["arn:aws:s3:::bundles/releases/*", "arn:aws:s3:::bundles/runtimes/*"],
      },
      {
        Sid: "ReadOwnParameters",
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: minimal.parameterArns,
      },
      {
        Sid: "DecryptOwnParametersViaSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: minimal.kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
      },
      { Sid: "ReadInstanceTags", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" },
    ]);
    expect(JSON.parse(mocks.one("aws:iam/role:Role").inputs.assumeRolePolicy).Statement[0].Principal).toEqual({
      Service: "ec2.amazonaws.com",
    });
    expect(mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    expect(
      mocks
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["svc-launch-hook", "svc-service", "svc-ssm-agent"]);

    const ingress = mocks.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(ingress.inputs).toMatchObject({
      securityGroupId: "svc-instances-id",
      referencedSecurityGroupId: "sg-lb",
      fromPort: 3000,
      toPort: 3000,
    });
    expect(ingress.inputs.cidrIpv4).toBeUndefined();
    for (const r of mocks.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"))
      expect(r.inputs.description).toBeTruthy();
  });

  it("takes an explicit AMI, rollback alarms and a warm pool", async () => {
    await runProgram(() => ({
      asg: new Fleet("pinned", {
        ...minimal,
        amiId: "ami-0fedcba987654321f",
        rollbackAlarmNames: ["a5xx", "unhealthy"],
        warmPool: true,
      }).autoScalingGroupName,
    }));
    const ami = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs.filters).toContainEqual({ name: "image-id", values: ["ami-0fedcba987654321f"] });
    const asg = mocks.one("aws:autoscaling/group:Group");
    expect(asg.inputs.instanceRefresh.preferences.alarmSpecification).toEqual({ alarms: ["a5xx", "unhealthy"] });
    // Bounded: without maxGroupPreparedCapacity the pool is max - desired instances (PutWarmPool API reference).
    expect(asg.inputs.warmPool).toEqual({
      poolState: "Stopped",
      minSize: 1,
      maxGroupPreparedCapacity: 3,
      instanceReusePolicy: { reuseOnScaleIn: true },
    });
  });

  it("tags each instance with the secrets revision through the launch template's data, so a new value is a new version", async () => {
    const tags = { env: "dev" };
    const specs = async (extra: Partial<FleetArgs>) => {
      mocks.clear();
      await runProgram(() => ({ asg: new Fleet("svc", { ...minimal, tags, ...extra }).autoScalingGroupName }));
      return mocks.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.tagSpecifications;
    };
    const revision = "datadog-api-key:2/papertrail-destination:1";
    expect(await specs({ secretsRevision: revision })).toEqual([
      { resourceType: "instance", tags: { env: "dev", [secretsRevisionTagKey]: revision } },
      { resourceType: "volume", tags },
    ]);
    // The template's own tags are not its data (a change there makes no version): the revision is not there.
    expect(mocks.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.tags).toEqual(tags);
    expect(await specs({})).toEqual([
      { resourceType: "instance", tags },
      { resourceType: "volume", tags },
    ]);
  });

  it("holds every launch at a lifecycle hook the hosts complete, created before the first instance and kept after", async () => {
    const { options } = await runProgram(() => ({
      asg: new Fleet("svc", { ...minimal, warmPool: true, lifecycleHookTimeoutSec: 900 }).autoScalingGroupName,
    }));
    const hook = {
      name: launchHookName("sample-api"),
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
      defaultResult: "ABANDON",
      heartbeatTimeout: 900,
    };
    const asg = mocks.one("aws:autoscaling/group:Group");
    // On the group at creation (the provider puts it before any instance launches; it is ForceNew, so it is
    // ignored afterwards), and as its own resource, which a stack created before the hook gets, and which
    // takes later timeout changes (terraform-provider-aws group.go: twoPhases, initial_lifecycle_hook ForceNew).
    expect(asg.inputs.initialLifecycleHooks).toEqual([hook]);
    expect(options.get("aws:autoscaling/group:Group::svc-asg")?.ignoreChanges).toEqual([
      "desiredCapacity",
      "initialLifecycleHooks",
    ]);
    expect(mocks.one("aws:autoscaling/lifecycleHook:LifecycleHook").inputs).toEqual({
      ...hook,
      autoscalingGroupName: "svc-asg-x1",
    });
    // The group carries the tag the role's permission is conditioned on; instances do not need it.
    expect(asg.inputs.tags).toContainEqual({
      key: fleetTagKey,
      value: "node-service-aws/test/svc",
      propagateAtLaunch: false,
    });
    const statements = JSON.parse(named("aws:iam/rolePolicy:RolePolicy", "svc-launch-hook").inputs.policy).Statement;
    expect(statements).toEqual([
      { Sid: "FindOwnGroup", Effect: "Allow", Action: "autoscaling:DescribeAutoScalingInstances", Resource: "*" },
      {
        Sid: "CompleteOwnGroupsLaunchHook",
        Effect: "Allow",
        Action: "autoscaling:CompleteLifecycleAction",
        Resource: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${fleetTagKey}`]: "node-service-aws/test/svc" } },
      },
    ]);
    expect(named("aws:iam/rolePolicy:RolePolicy", "svc-launch-hook").inputs.role).toBe("svc-role-id");
    // Instances call CompleteLifecycleAction as they boot: the permission is there before the group launches any.
    expect(await explicitDependencies(options.get("aws:autoscaling/group:Group::svc-asg"))).toContain(
      "aws:iam/rolePolicy:RolePolicy::svc-launch-hook",
    );
  });

  it("pulumi up waits for the instance refresh of each release, and never lets an update cancel one still running", async () => {
    let fleet: Fleet | undefined;
    const { options } = await runProgram(() => ({
      released: (fleet = new Fleet("svc", { ...minimal, refreshTimeoutSec: 2400 })).releasedLaunchTemplateVersion,
    }));
    const waiter = mocks.one("pulumi-nodejs:dynamic:InstanceRefreshWaiter");
    expect(waiter.inputs).toMatchObject({
      region: "us-east-1",
      autoScalingGroupName: "svc-asg-x1",
      launchTemplateId: "svc-lt-id",
      launchTemplateVersion: "1",
      timeoutSec: 2400,
      pollSec: 15,
    });
    expect(
      await explicitDependencies(options.get("pulumi-nodejs:dynamic:InstanceRefreshWaiter::svc-refresh")),
    ).toContain("aws:autoscaling/group:Group::svc-asg");
    const guard = mocks.one("pulumi-nodejs:dynamic:InstanceRefreshGuard");
    expect(guard.inputs).toMatchObject({
      region: "us-east-1",
      tagKey: fleetTagKey,
      tagValue: "node-service-aws/test/svc",
      launchTemplateVersion: "1",
      timeoutSec: 2400,
    });
    expect(await explicitDependencies(options.get("aws:autoscaling/group:Group::svc-asg"))).toContain(
      "pulumi-nodejs:dynamic:InstanceRefreshGuard::svc-refresh-guard",
    );
    expect(await valueOf(fleet!.releasedLaunchTemplateVersion)).toBe("1");
  });

  it.each([
    [
      { refreshTimeoutSec: 600, checkpointPercentages: [34, 67, 100], lifecycleHookTimeoutSec: 600 },
      /refreshTimeoutSec: 600 is shorter than the refresh's own pauses and waits: 3 checkpoints × 300 s \+ 120 s warm-up \+ 600 s launch hook = 1620 s/,
    ],
    [{ lifecycleHookTimeoutSec: 20 }, /lifecycleHookTimeoutSec: 20 must be a whole number of seconds from 30 to 7200/],
    [{ architecture: "x86_64" }, /architecture "x86_64" must be "x64" or "arm64"/],
    [
      { warmPool: true, warmPoolMaxPreparedCapacity: 0 },
      /warmPoolMaxPreparedCapacity: 0 must be a whole number above 0/,
    ],
  ])("refuses %o", (extra, message) => {
    expect(() => new Fleet("bad", { ...minimal, ...extra })).toThrow(message);
  });
});
