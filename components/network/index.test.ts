import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatProblem, namesFrom } from "../../contract/problem";
import { MockRecorder, settle, setupMocks, valueOf } from "../../test/support/pulumi-mocks";
import { Network, checkNetworkArgs, subnetCidr } from "./index";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
});
beforeEach(() => {
  mocks.clear();
});

describe("Network", () => {
  it("creates a VPC with a public and a private subnet per AZ and one shared NAT by default", async () => {
    const n = new Network("net", {});
    const [priv, pub] = await Promise.all([valueOf(n.privateSubnetIds), valueOf(n.publicSubnetIds)]);
    await settle();
    expect(mocks.one("aws:ec2/vpc:Vpc").inputs).toMatchObject({ cidrBlock: "10.0.0.0/16", enableDnsHostnames: true });
    const subnets = mocks.ofType("aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]).sort()).toEqual([
      ["net-private-0", "10.0.128.0/20", "us-east-1a"], ["net-private-1", "10.0.144.0/20", "us-east-1b"],
      ["net-public-0", "10.0.0.0/20", "us-east-1a"], ["net-public-1", "10.0.16.0/20", "us-east-1b"],
    ]);
    expect(priv).toEqual(["net-private-0-id", "net-private-1-id"]);
    expect(pub).toEqual(["net-public-0-id", "net-public-1-id"]);
    // What an internet-facing load balancer and the instances wait for on the first `up`.
    expect(await valueOf(n.internetConnectivityEstablished)).toEqual(["net-igw-id", "net-public-id", "net-public-0-id", "net-public-1-id"]);
    expect(await valueOf(n.privateEgressEstablished)).toEqual(["net-nat-0-id", "net-private-0-id", "net-private-0-id", "net-private-1-id", "net-private-1-id"]);
    expect(mocks.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    // Every private route table sends egress through the NAT, never the internet gateway.
    for (const rt of mocks.ofType("aws:ec2/routeTable:RouteTable").filter((r) => r.name.includes("private")))
      expect(rt.inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: "net-nat-0-id" }]);
  });

  it("gives each AZ its own NAT when asked", async () => {
    new Network("ha", { azCount: 3, natGatewayPerAz: true, cidrBlock: "10.20.0.0/16" });
    await settle();
    expect(mocks.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    const routes = mocks.ofType("aws:ec2/routeTable:RouteTable").filter((r) => r.name.includes("private")).map((r) => r.inputs.routes[0].natGatewayId).sort();
    expect(routes).toEqual(["ha-nat-0-id", "ha-nat-1-id", "ha-nat-2-id"]);
  });

  it("uses an existing VPC as given and creates nothing", async () => {
    const n = new Network("byo", { vpcId: "vpc-1", publicSubnetIds: ["subnet-a", "subnet-b"], privateSubnetIds: ["subnet-c", "subnet-d"] });
    expect(await valueOf(n.privateSubnetIds)).toEqual(["subnet-c", "subnet-d"]);
    expect(await valueOf(n.internetConnectivityEstablished)).toEqual([]);
    expect(await valueOf(n.privateEgressEstablished)).toEqual([]);
    await settle();
    expect(mocks.resources.map((r) => r.type)).toEqual(["node-service-aws:index:Network"]);
  });

  it.each([
    [{ vpcId: "vpc-1", cidrBlock: "10.0.0.0/16", publicSubnetIds: ["a"], privateSubnetIds: ["b"] }, "vpcId", /^vpcId: is mutually exclusive with cidrBlock/],
    [{ vpcId: "vpc-1" }, "vpcId", /^vpcId: needs publicSubnetIds and privateSubnetIds/],
    [{ privateSubnetIds: ["a"] }, "privateSubnetIds", /^privateSubnetIds: needs vpcId/],
    [{ azCount: 1 }, "azCount", /^azCount: 1 must be an integer from 2 to 6/],
  ])("refuses %o under the argument %s", (args, field, message) => {
    const problems = checkNetworkArgs(args);
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(formatProblem(problems[0]!)).toMatch(message);
    expect(() => new Network("bad", args)).toThrow(formatProblem(problems[0]!));
  });

  it("names the arguments a message mentions the caller's way", () => {
    const names = namesFrom({ cidrBlock: "vpcCidr" });
    const [p] = checkNetworkArgs({ vpcId: "vpc-1", cidrBlock: "10.0.0.0/16", publicSubnetIds: ["a"], privateSubnetIds: ["b"] }, names);
    expect(p).toEqual({ field: "vpcId", message: "is mutually exclusive with vpcCidr: give vpcId with its subnets to use a VPC, or vpcCidr to create one" });
  });

  it("splits CIDRs", () => {
    expect(subnetCidr("10.1.0.0/16", 4, 9)).toBe("10.1.144.0/20");
    expect(() => subnetCidr("10.1.0.0/26", 4, 0)).toThrow(/too small/);
  });
});
