// Network rules over the resource graph (security review F9).
// - Egress to anywhere (0.0.0.0/0, ::/0), in an aws.vpc.SecurityGroupEgressRule, an aws.ec2.SecurityGroupRule of type
//   egress or a group's inline egress, is one TCP port per rule, never a range, never all protocols, never
//   port 80: the hosts open HTTPS and the Papertrail port, and apt reads its sources over HTTPS.
// - A VPC the stack creates has its default security group adopted without rules (Security Hub EC2.2:
//   https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2).
import type { Problem } from "../contract/problem";
import { Graph, ofType, problemAt } from "./graph";

const anywhere = (r: { cidrIpv4?: string; cidrIpv6?: string }) => r.cidrIpv4 === "0.0.0.0/0" || r.cidrIpv6 === "::/0";
/** A rule with CIDR lists (an inline rule, aws.ec2.SecurityGroupRule) that includes anywhere. */
const anyOf = (e: { cidrBlocks?: string[]; ipv6CidrBlocks?: string[] }) =>
  (e.cidrBlocks ?? []).includes("0.0.0.0/0") || (e.ipv6CidrBlocks ?? []).includes("::/0");

/** Problems: egress rules to anywhere that open more than one TCP port, or port 80. */
export function checkOpenEgress(g: Graph): Problem[] {
  const standalone = ofType(g, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    .filter((r) => anywhere(r.inputs))
    .map((r) => ({ r, protocol: String(r.inputs.ipProtocol), from: r.inputs.fromPort, to: r.inputs.toPort }));
  const classic = ofType(g, "aws:ec2/securityGroupRule:SecurityGroupRule")
    .filter((r) => r.inputs.type === "egress" && anyOf(r.inputs))
    .map((r) => ({ r, protocol: String(r.inputs.protocol), from: r.inputs.fromPort, to: r.inputs.toPort }));
  const inline = ofType(g, "aws:ec2/securityGroup:SecurityGroup").flatMap((r) =>
    ((r.inputs.egress ?? []) as any[])
      .filter(anyOf)
      .map((e) => ({ r, protocol: String(e.protocol), from: e.fromPort, to: e.toPort })),
  );
  return [...standalone, ...classic, ...inline].flatMap(({ r, protocol, from, to }) => {
    if (protocol !== "tcp" && protocol !== "6")
      return [problemAt(r, `egress to anywhere over protocol ${protocol}: open single TCP ports`)];
    if (from !== to)
      return [
        problemAt(r, `egress to anywhere on ports ${from}-${to}: open single TCP ports (HTTPS, the Papertrail port)`),
      ];
    if (from === 80) return [problemAt(r, "egress to anywhere on port 80: package sources are read over HTTPS")];
    return [];
  });
}

/** Problems: created VPCs whose default security group the stack does not adopt without rules. */
export function checkDefaultSecurityGroups(g: Graph): Problem[] {
  const vpcs = ofType(g, "aws:ec2/vpc:Vpc");
  const adopted = ofType(g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
  const problems = adopted
    .filter((d) => (d.inputs.ingress ?? []).length > 0 || (d.inputs.egress ?? []).length > 0)
    .map((d) => problemAt(d, "the default security group keeps rules: adopt it with none"));
  if (adopted.length < vpcs.length)
    problems.push(
      ...vpcs.map((v) =>
        problemAt(v, "its default security group is not adopted without rules (aws.ec2.DefaultSecurityGroup)"),
      ),
    );
  return problems;
}
