// policy/network.ts over hand-made graphs.
import { describe, expect, it } from "vitest";
import type { GraphResource } from "./graph";
import { checkDefaultSecurityGroups, checkOpenEgress } from "./network";

const egress = (name: string, inputs: object): GraphResource => ({
  type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  name,
  inputs: { securityGroupId: "sg", ...inputs },
});

describe("checkOpenEgress", () => {
  it("passes HTTPS and one other port to anywhere, and anything to a security group or a CIDR inside", () => {
    expect(
      checkOpenEgress([
        egress("https", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 }),
        egress("papertrail", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 12345, toPort: 12345 }),
        egress("to-targets", { referencedSecurityGroupId: "sg-2", ipProtocol: "tcp", fromPort: 1, toPort: 65535 }),
        egress("vpc", { cidrIpv4: "10.0.0.0/16", ipProtocol: "-1" }),
      ]),
    ).toEqual([]);
  });

  it("fails ranges, all protocols and port 80 to anywhere, standalone or inline", () => {
    const problems = checkOpenEgress([
      egress("range", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 1, toPort: 65535 }),
      egress("all", { cidrIpv6: "::/0", ipProtocol: "-1" }),
      egress("http", { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 80, toPort: 80 }),
      {
        type: "aws:ec2/securityGroup:SecurityGroup",
        name: "sg",
        inputs: { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] },
      },
    ]);
    expect(problems.map((p) => p.field.split("::")[1])).toEqual(["range", "all", "http", "sg"]);
  });
});

describe("checkDefaultSecurityGroups", () => {
  const vpc: GraphResource = { type: "aws:ec2/vpc:Vpc", name: "v", inputs: {} };
  it("a created VPC's default security group is adopted without rules", () => {
    expect(
      checkDefaultSecurityGroups([
        vpc,
        { type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", name: "d", inputs: { vpcId: "v-id" } },
      ]),
    ).toEqual([]);
    expect(checkDefaultSecurityGroups([vpc]).map((p) => p.field)).toEqual(["aws:ec2/vpc:Vpc::v"]);
    expect(
      checkDefaultSecurityGroups([
        vpc,
        {
          type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
          name: "d",
          inputs: { ingress: [{ protocol: "-1" }] },
        },
      ]).map((p) => p.field),
    ).toEqual(["aws:ec2/defaultSecurityGroup:DefaultSecurityGroup::d"]);
  });
});
