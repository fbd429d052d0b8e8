import { describe, expect, it } from "vitest";
import { formatProblem, namesFrom } from "../../contract/problem";
import { settle, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { Network, checkNetworkArgs, subnetCidr } from "./index";

const mocks = useMocks();

describe("Network", () => {
  it("creates a VPC with a public and a private subnet per AZ and one shared NAT by default", async () => {
    const n = new Network("net", {});
    const [priv, pub] = await Promise.all([valueOf(n.privateSubnetIds), valueOf(n.publicSubnetIds)]);
    await settle();
    expect(mocks.one("aws:ec2/vpc:Vpc").inputs).toMatchObject({ cidrBlock: "10.0.0.0/16", enableDnsHostnames: true });
    const subnets = mocks.ofType("aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]).sort()).toEqual([
      ["net-private-0", "10.0.128.0/20", "us-east-1a"],
      ["net-private-1", "10.0.144.0/20", "us-east-1b"],
      ["net-public-0", "10.0.0.0/20", "us-east-1a"],
      ["net-public-1", "10.0.16.0/20", "us-east-1b"],
    ]);
    expect(priv).toEqual(["net-private-0-id", "net-private-1-id"]);
    expect(pub).toEqual(["net-public-0-id", "net-public-1-id"]);
    // What an internet-facing load balancer and the instances wait for on the first `up`.
    expect(await valueOf(n.internetConnectivityEstablished)).toEqual([
      "net-igw-id",
      "net-public-id",
      "net-public-0-id",
      "net-public-1-id",
    ]);
    expect(await valueOf(n.privateEgressEstablished)).toEqual([
      "net-nat-0-id",
      "net-private-0-id",
      "net-private-0-id",
      "net-private-1-id",
      "net-private-1-id",
    ]);
    expect(mocks.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    // Every private route table sends egress through the NAT, never the internet gateway.
    for (const rt of mocks.ofType("aws:ec2/routeTable:RouteTable").filter((r) => r.name.includes("private")))
      expect(rt.inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: "net-nat-0-id" }]);
  });

  it("a created VPC: an S3 gateway endpoint on the private route tables, its default security group without a rule; nothing more unless asked", async () => {
    new Network("net", { cidrBlock: "10.9.0.0/16" });
    await settle();
    const [s3, ...others] = mocks.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(others).toEqual([]);
    expect(s3!.inputs).toMatchObject({
      vpcId: "net-vpc-id",
      serviceName: "com.amazonaws.us-east-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: ["net-private-0-id", "net-private-1-id"],
    });
    const defaultSg = mocks.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(defaultSg.inputs.vpcId).toBe("net-vpc-id");
    expect(defaultSg.inputs.ingress ?? []).toEqual([]);
    expect(defaultSg.inputs.egress ?? []).toEqual([]);
    for (const absent of [
      "aws:ec2/flowLog:FlowLog",
      "aws:cloudwatch/logGroup:LogGroup",
      "aws:ec2/securityGroup:SecurityGroup",
    ])
      expect(mocks.ofType(absent)).toEqual([]);
  });

  it("interface endpoints when asked: private DNS, one per service in the private subnets, HTTPS from the VPC only", async () => {
    new Network("net", { cidrBlock: "10.9.0.0/16", interfaceEndpoints: true });
    await settle();
    const interfaces = mocks
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Interface");
    expect(interfaces.map((e) => e.inputs.serviceName)).toEqual(
      ["ssm", "ssmmessages", "ec2messages", "kms", "monitoring", "ec2"].map((s) => `com.amazonaws.us-east-1.${s}`),
    );
    for (const e of interfaces)
      expect(e.inputs).toMatchObject({
        privateDnsEnabled: true,
        subnetIds: ["net-private-0-id", "net-private-1-id"],
        securityGroupIds: ["net-endpoints-id"],
      });
    expect(mocks.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs).toMatchObject({
      securityGroupId: "net-endpoints-id",
      cidrIpv4: "10.9.0.0/16",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
    expect(mocks.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
  });

  it("flow logs when asked, also of a given VPC: all traffic to a log group with retention, through a role only this account's flow logs assume", async () => {
    new Network("byo", { vpcId: "vpc-1", publicSubnetIds: ["a", "b"], privateSubnetIds: ["c", "d"], flowLogs: true });
    await settle();
    expect(mocks.one("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays).toBe(365);
    expect(mocks.one("aws:ec2/flowLog:FlowLog").inputs).toMatchObject({
      vpcId: "vpc-1",
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      iamRoleArn: "arn:aws:iam::123456789012:role/byo-flow-logs-x1",
    });
    const trust = JSON.parse(mocks.one("aws:iam/role:Role").inputs.assumeRolePolicy).Statement[0];
    expect(trust).toMatchObject({
      Principal: { Service: "vpc-flow-logs.amazonaws.com" },
      Condition: {
        StringEquals: { "aws:SourceAccount": "123456789012" },
        ArnLike: { "aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*" },
      },
    });
    // A given VPC's endpoints and default security group are its owner's.
    expect(mocks.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")).toEqual([]);
    expect(mocks.ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")).toEqual([]);
  });

  it("gives each AZ its own NAT when asked", async () => {
    new Network("ha", { azCount: 3, natGatewayPerAz: true, cidrBlock: "10.20.0.0/16" });
    await settle();
    expect(mocks.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    const routes = mocks
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((r) => r.name.includes("private"))
      .map((r) => r.inputs.routes[0].natGatewayId)
      .sort();
    expect(routes).toEqual(["ha-nat-0-id", "ha-nat-1-id", "ha-nat-2-id"]);
  });

  it("uses an existing VPC as given and creates nothing", async () => {
    const n = new Network("byo", {
      vpcId: "vpc-1",
      publicSubnetIds: ["subnet-a", "subnet-b"],
      privateSubnetIds: ["subnet-c", "subnet-d"],
    });
    expect(await valueOf(n.privateSubnetIds)).toEqual(["subnet-c", "subnet-d"]);
    expect(await valueOf(n.internetConnectivityEstablished)).toEqual([]);
    expect(await valueOf(n.privateEgressEstablished)).toEqual([]);
    await settle();
    expect(mocks.resources.map((r) => r.type)).toEqual(["node-service-aws:index:Network"]);
  });

  it.each([
    [
      { vpcId: "vpc-1", cidrBlock: "10.0.0.0/16", publicSubnetIds: ["a"], privateSubnetIds: ["b"] },
      "vpcId",
      /^vpcId: is mutually exclusive with cidrBlock/,
    ],
    [{ vpcId: "vpc-1" }, "vpcId", /^vpcId: needs publicSubnetIds and privateSubnetIds/],
    [{ privateSubnetIds: ["a"] }, "privateSubnetIds", /^privateSubnetIds: needs vpcId/],
    [{ azCount: 1 }, "azCount", /^azCount: 1 must be an integer from 2 to 6/],
    [
      { vpcId: "vpc-1", publicSubnetIds: ["a"], privateSubnetIds: ["b"], interfaceEndpoints: true },
      "interfaceEndpoints",
      /^interfaceEndpoints: applies only when creating a VPC/,
    ],
    [
      { flowLogs: true, flowLogRetentionDays: 100 },
      "flowLogRetentionDays",
      /^flowLogRetentionDays: 100 is not a CloudWatch Logs retention/,
    ],
  ])("refuses %o under the argument %s", (args, field, message) => {
    const problems = checkNetworkArgs(args);
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(formatProblem(problems[0]!)).toMatch(message);
    expect(() => new Network("bad", args)).toThrow(formatProblem(problems[0]!));
  });

  it("names the arguments a message mentions the caller's way", () => {
    const names = namesFrom({ cidrBlock: "vpcCidr" });
    const [p] = checkNetworkArgs(
      { vpcId: "vpc-1", cidrBlock: "10.0.0.0/16", publicSubnetIds: ["a"], privateSubnetIds: ["b"] },
      names,
    );
    expect(p).toEqual({
      field: "vpcId",
      message: "is mutually exclusive with vpcCidr: give vpcId with its subnets to use a VPC, or vpcCidr to create one",
    });
  });

  it("splits CIDRs", () => {
    expect(subnetCidr("10.1.0.0/16", 4, 9)).toBe("10.1.144.0/20");
    expect(() => subnetCidr("10.1.0.0/26", 4, 0)).toThrow(/too small/);
  });
});
