import { gunzipSync } from "node:zlib";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MOCK_AMI_ID, MockRecorder, runProgram, setupMocks } from "../../test/support/pulumi-mocks";
import { Fleet, FleetArgs, debianOwnerId } from "./index";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
});
beforeEach(() => {
  mocks.clear();
});

const minimal: FleetArgs = {
  vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"], userData: "#cloud-config\n{}\n",
  targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1", loadBalancerSecurityGroupId: "sg-lb",
  loadBalancerArnSuffix: "app/lb/1", targetGroupArnSuffix: "targetgroup/tg/1",
  bundleBucketArn: "arn:aws:s3:::bundles", parameterArns: ["arn:aws:ssm:us-east-1:123456789012:parameter/svc/dev/a"], kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
};

describe("Fleet", () => {
  it("with minimal args: hardened launch template, ELB-checked ASG with a safe instance refresh, request tracking", async () => {
    const { options } = await runProgram(() => ({ asg: new Fleet("svc", minimal).autoScalingGroupName }));
    const lt = mocks.one("aws:ec2/launchTemplate:LaunchTemplate");
    expect(lt.inputs).toMatchObject({
      imageId: MOCK_AMI_ID, instanceType: "t3.small",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      networkInterfaces: [{ associatePublicIpAddress: "false", securityGroups: ["svc-instances-id"] }],
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", volumeSize: 8 } }],
      iamInstanceProfile: { arn: expect.stringContaining("instance-profile/svc-profile") },
    });
    expect(gunzipSync(Buffer.from(lt.inputs.userData, "base64")).toString()).toBe(minimal.userData); // gzipped, as cloud-init reads it
    const ami = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs).toMatchObject({ owners: [debianOwnerId], mostRecent: true });
    expect(ami.inputs.filters).toContainEqual({ name: "name", values: ["debian-12-amd64-*"] });

    const asg = mocks.one("aws:autoscaling/group:Group");
    expect(asg.inputs).toMatchObject({
      minSize: 2, maxSize: 4, desiredCapacity: 2, healthCheckType: "ELB", healthCheckGracePeriod: 300,
      vpcZoneIdentifiers: ["subnet-a", "subnet-b"], launchTemplate: { id: "svc-lt-id", version: "1" },
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, autoRollback: true, checkpointPercentages: [50, 100], instanceWarmup: "120", checkpointDelay: "300" } },
    });
    expect(asg.inputs.instanceRefresh.preferences.alarmSpecification).toBeUndefined();
    expect(asg.inputs.warmPool).toBeUndefined();
    expect(options.get("aws:autoscaling/group:Group::svc-asg")?.ignoreChanges).toEqual(["desiredCapacity"]);
    expect(mocks.one("aws:autoscaling/policy:Policy").inputs.targetTrackingConfiguration).toEqual({
      predefinedMetricSpecification: { predefinedMetricType: "ALBRequestCountPerTarget", resourceLabel: "app/lb/1/targetgroup/tg/1" }, targetValue: 1000,
    });

    const policy = JSON.parse(mocks.one("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    expect(policy.Statement).toEqual([
      { Sid: "ReadReleases", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::bundles/releases/*" },
      { Sid: "ReadOwnParameters", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: minimal.parameterArns },
      { Sid: "DecryptOwnParametersViaSsm", Effect: "Allow", Action: "kms:Decrypt", Resource: minimal.kmsKeyArn, Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } } },
    ]);
    expect(JSON.parse(mocks.one("aws:iam/role:Role").inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
    expect(mocks.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs.policyArn).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");

    const ingress = mocks.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(ingress.inputs).toMatchObject({ securityGroupId: "svc-instances-id", referencedSecurityGroupId: "sg-lb", fromPort: 3000, toPort: 3000 });
    expect(ingress.inputs.cidrIpv4).toBeUndefined();
    for (const r of mocks.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")) expect(r.inputs.description).toBeTruthy();
  });

  it("takes an explicit AMI, rollback alarms and a warm pool", async () => {
    await runProgram(() => ({ asg: new Fleet("pinned", { ...minimal, amiId: "ami-0fedcba987654321f", rollbackAlarmNames: ["a5xx", "unhealthy"], warmPool: true }).autoScalingGroupName }));
    const ami = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs.filters).toContainEqual({ name: "image-id", values: ["ami-0fedcba987654321f"] });
    const asg = mocks.one("aws:autoscaling/group:Group");
    expect(asg.inputs.instanceRefresh.preferences.alarmSpecification).toEqual({ alarms: ["a5xx", "unhealthy"] });
    expect(asg.inputs.warmPool).toEqual({ poolState: "Stopped", minSize: 1, instanceReusePolicy: { reuseOnScaleIn: true } });
  });
});
