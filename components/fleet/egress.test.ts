// What the service instances may open outward (security review F9): HTTPS (AWS APIs through the VPC endpoints or
// the NAT, Datadog, package repositories read over HTTPS) and the Papertrail port, nothing else; no port 80.
import { describe, expect, it } from "vitest";
import { runProgram } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { Fleet, FleetArgs } from "./index";

const mocks = useMocks();

const args: FleetArgs = {
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
const outbound = () =>
  mocks
    .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    .filter((r) => r.inputs.securityGroupId === "svc-instances-id")
    .map((r) => [r.inputs.cidrIpv4, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort]);

describe("Fleet egress", () => {
  it("HTTPS and the Papertrail port to anywhere, nothing else", async () => {
    await runProgram(() => ({ asg: new Fleet("svc", { ...args, papertrailPort: 23456 }).autoScalingGroupName }));
    expect(outbound()).toEqual([
      ["0.0.0.0/0", "tcp", 443, 443],
      ["0.0.0.0/0", "tcp", 23456, 23456],
    ]);
  });

  it("without a Papertrail port, HTTPS only", async () => {
    await runProgram(() => ({ asg: new Fleet("svc", args).autoScalingGroupName }));
    expect(new Set(outbound().map((r) => r.join(" ")))).toEqual(new Set(["0.0.0.0/0 tcp 443 443"]));
  });
});
