// The security group policies, each with a resource that passes and one that violates.
import { describe, expect, it } from "vitest";
import { ResourceSpec, runPolicy, urnOf } from "../test/args";
import { defaultSecurityGroupClosed, egressRestricted, noOpenIngress, securityGroupRulesDescribed } from "./network";

const sg = (name: string, props: object = {}): ResourceSpec => ({
  type: "aws:ec2/securityGroup:SecurityGroup",
  name,
  props: { description: `${name} group`, ...props },
});
const ingress = (name: string, group: ResourceSpec, props: object): ResourceSpec => ({
  type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  name,
  props: { securityGroupId: `${group.name}-id`, ipProtocol: "tcp", description: name, ...props },
  propertyDependencies: { securityGroupId: [urnOf(group)] },
});
const messages = async (p: Parameters<typeof runPolicy>[0], specs: ResourceSpec[]) =>
  (await runPolicy(p, specs)).violations.map((v) => v.message);

describe("no-open-ingress", () => {
  const lbGroup = sg("lb");
  const hosts = sg("hosts");
  // The load balancer names its group by id, a plain value here (no property dependency).
  const lb: ResourceSpec = {
    type: "aws:alb/loadBalancer:LoadBalancer",
    name: "alb",
    props: { internal: false, securityGroups: ["sg-lb"] },
  };
  const lbGroupWithId = { ...lbGroup, props: { ...lbGroup.props, id: "sg-lb" } };

  it("passes 80 and 443 from anywhere into an internet-facing load balancer's group, and the service port from it", async () => {
    const specs = [
      lbGroupWithId,
      hosts,
      lb,
      ingress("http", lbGroup, { cidrIpv4: "0.0.0.0/0", fromPort: 80, toPort: 80 }),
      ingress("https6", lbGroup, { cidrIpv6: "::/0", fromPort: 443, toPort: 443 }),
      ingress("from-lb", hosts, { referencedSecurityGroupId: "sg-lb", fromPort: 3000, toPort: 3000 }),
    ];
    expect(await messages(noOpenIngress, specs)).toEqual([]);
  });

  it("fails anywhere into the hosts (inline or aws.ec2.SecurityGroupRule) and a range into the load balancer", async () => {
    const specs = [
      lbGroupWithId,
      {
        ...hosts,
        props: { ...hosts.props, ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] },
      },
      lb,
      ingress("range", lbGroup, { cidrIpv4: "0.0.0.0/0", fromPort: 80, toPort: 443 }),
      {
        type: "aws:ec2/securityGroupRule:SecurityGroupRule",
        name: "ssh",
        props: {
          type: "ingress",
          protocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrBlocks: ["0.0.0.0/0"],
          securityGroupId: "x",
        },
      },
    ];
    expect(await messages(noOpenIngress, specs)).toEqual([
      "admits anywhere on tcp 80-443: only single TCP ports 80, 443",
      expect.stringMatching(/^admits anywhere \(tcp 22-22\) into a group that no internet-facing load balancer uses/),
      expect.stringMatching(/^admits anywhere \(tcp 22-22\) into hosts that no internet-facing load balancer uses/),
    ]);
  });
});

describe("security-group-rules-described", () => {
  it("passes a described group, inline rule and standalone rule", async () => {
    const specs = [
      sg("a", { egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, description: "HTTPS out" }] }),
      ingress("https", sg("a"), { cidrIpv4: "10.0.0.0/16", fromPort: 443, toPort: 443 }),
    ];
    expect(await messages(securityGroupRulesDescribed, specs)).toEqual([]);
  });
  it("fails the provider's default group description, a bare inline rule and a bare rule", async () => {
    const specs: ResourceSpec[] = [
      {
        type: "aws:ec2/securityGroup:SecurityGroup",
        name: "b",
        props: { description: "Managed by Pulumi", ingress: [{ protocol: "-1" }] },
      },
      { type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", name: "e", props: { ipProtocol: "-1" } },
      { type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", name: "d", props: { egress: [{ protocol: "-1" }] } },
    ];
    expect(await messages(securityGroupRulesDescribed, specs)).toEqual([
      expect.stringMatching(/^the group has no description of its own/),
      "inline ingress rule 0 has no description",
      "the rule has no description",
      "inline egress rule 0 has no description",
    ]);
  });
});

describe("egress-restricted", () => {
  const egress = (name: string, props: object): ResourceSpec => ({
    type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    name,
    props: { securityGroupId: "sg", cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", ...props },
  });
  it("passes HTTPS to anywhere, and fails port 80 and a classic rule for all protocols", async () => {
    expect(await messages(egressRestricted, [egress("https", { fromPort: 443, toPort: 443 })])).toEqual([]);
    const bad = await runPolicy(egressRestricted, [
      egress("http", { fromPort: 80, toPort: 80 }),
      {
        type: "aws:ec2/securityGroupRule:SecurityGroupRule",
        name: "all",
        props: { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
      },
    ]);
    expect(bad.violations).toEqual([
      {
        message: expect.stringMatching(/port 80/),
        urn: "urn:pulumi:test::test::aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::http",
      },
      {
        message: expect.stringMatching(/over protocol -1/),
        urn: "urn:pulumi:test::test::aws:ec2/securityGroupRule:SecurityGroupRule::all",
      },
    ]);
  });
});

describe("default-security-group-closed", () => {
  const vpc: ResourceSpec = { type: "aws:ec2/vpc:Vpc", name: "vpc", props: {} };
  const adopted = (props: object): ResourceSpec => ({
    type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    name: "default",
    props,
  });
  it("passes a VPC whose default group is adopted empty, and fails one left with rules", async () => {
    expect(await messages(defaultSecurityGroupClosed, [vpc, adopted({ vpcId: "vpc-id" })])).toEqual([]);
    expect(
      await messages(defaultSecurityGroupClosed, [vpc, adopted({ ingress: [{ protocol: "-1", self: true }] })]),
    ).toEqual(["the default security group keeps rules: adopt it with none"]);
  });
});
