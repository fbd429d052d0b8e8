// Security groups: who may connect from anywhere (only the load balancer, only on 80/443), what every rule is for
// (a description), where hosts may connect to (policy/network.ts), and the VPC's default group (no rules).
import type { PolicyResource } from "@pulumi/policy";
import { checkDefaultSecurityGroups, checkOpenEgress } from "../network";
import { PackPolicy, graphOf, isOf, list, ofTypes, refersTo, reportProblems, types } from "./common";

interface Ingress {
  rule: PolicyResource;
  /** Where the rule lives: the security group it opens, when the stack holds it. */
  group: PolicyResource | undefined;
  protocol: string;
  from: unknown;
  to: unknown;
  anywhere: boolean;
}

const isAnywhere = (v4: unknown, v6: unknown) => list(v4).includes("0.0.0.0/0") || list(v6).includes("::/0");

/** Every ingress rule of the stack, standalone or inline, with the group it opens. */
function ingressRules(rs: readonly PolicyResource[]): Ingress[] {
  const groups = ofTypes(rs, types.securityGroup);
  const groupOf = (r: PolicyResource) => groups.find((g) => refersTo(r, "securityGroupId", g));
  return [
    ...ofTypes(rs, types.ingressRule).map((r) => ({
      rule: r,
      group: groupOf(r),
      protocol: String(r.props.ipProtocol),
      from: r.props.fromPort,
      to: r.props.toPort,
      anywhere: isAnywhere(r.props.cidrIpv4, r.props.cidrIpv6),
    })),
    ...ofTypes(rs, types.securityGroupRule)
      .filter((r) => r.props.type === "ingress")
      .map((r) => ({
        rule: r,
        group: groupOf(r),
        protocol: String(r.props.protocol),
        from: r.props.fromPort,
        to: r.props.toPort,
        anywhere: isAnywhere(r.props.cidrBlocks, r.props.ipv6CidrBlocks),
      })),
    ...groups.flatMap((g) =>
      list(g.props.ingress).map((i) => ({
        rule: g,
        group: g,
        protocol: String(i.protocol),
        from: i.fromPort,
        to: i.toPort,
        anywhere: isAnywhere(i.cidrBlocks, i.ipv6CidrBlocks),
      })),
    ),
  ];
}

/** Security groups of internet-facing load balancers. */
function publicLoadBalancerGroups(rs: readonly PolicyResource[]): PolicyResource[] {
  const lbs = ofTypes(rs, [...types.loadBalancer, ...types.classicLoadBalancer]).filter(
    (lb) => lb.props.internal !== true,
  );
  return ofTypes(rs, types.securityGroup).filter((g) => lbs.some((lb) => refersTo(lb, "securityGroups", g)));
}

export const noOpenIngress: PackPolicy = {
  name: "no-open-ingress",
  description:
    "No security group admits 0.0.0.0/0 or ::/0, except an internet-facing load balancer's group on single TCP ports of allowedPorts (80, 443).",
  enforcementLevel: "mandatory",
  resourceTypes: [
    ...types.ingressRule,
    ...types.securityGroupRule,
    ...types.securityGroup,
    ...types.loadBalancer,
    ...types.classicLoadBalancer,
  ],
  configSchema: {
    properties: { allowedPorts: { type: "array", items: { type: "integer" }, default: [80, 443] } },
  },
  validateStack: (args, report) => {
    const ports = args.getConfig<{ allowedPorts?: number[] }>().allowedPorts ?? [80, 443];
    const lbGroups = publicLoadBalancerGroups(args.resources);
    for (const i of ingressRules(args.resources).filter((x) => x.anywhere)) {
      const tcp = i.protocol === "tcp" || i.protocol === "6";
      const onePort = i.from === i.to && ports.includes(Number(i.from));
      const lb = i.group !== undefined && lbGroups.includes(i.group);
      if (tcp && onePort && lb) continue;
      report(
        !lb
          ? `admits anywhere (${i.protocol} ${i.from}-${i.to}) into ${i.group?.name ?? "a group"} that no internet-facing load balancer uses: admit the load balancer's security group instead`
          : `admits anywhere on ${i.protocol} ${i.from}-${i.to}: only single TCP ports ${ports.join(", ")}`,
        i.rule.urn,
      );
    }
  },
};

const ruleTypes = [...types.ingressRule, ...types.egressRule, ...types.securityGroupRule];

export const securityGroupRulesDescribed: PackPolicy = {
  name: "security-group-rules-described",
  description:
    "Every security group and every rule in it (standalone or inline) has a description saying what it admits and why.",
  enforcementLevel: "mandatory",
  resourceTypes: [...ruleTypes, ...types.securityGroup],
  validateResource: (args, report) => {
    const blank = (d: unknown) => typeof d !== "string" || d.trim() === "";
    if (isOf(args.type, ruleTypes)) {
      if (blank(args.props.description)) report("the rule has no description");
      return;
    }
    if (!isOf(args.type, types.securityGroup)) return;
    if (
      args.type === "aws:ec2/securityGroup:SecurityGroup" &&
      (blank(args.props.description) || args.props.description === "Managed by Pulumi")
    )
      report('the group has no description of its own (the provider\'s default is "Managed by Pulumi")');
    for (const dir of ["ingress", "egress"])
      list(args.props[dir]).forEach((r, n) => {
        if (blank(r.description)) report(`inline ${dir} rule ${n} has no description`);
      });
  },
};

export const egressRestricted: PackPolicy = {
  name: "egress-restricted",
  description:
    "Egress to anywhere is single TCP ports, never a range, all protocols or port 80 (policy/network.ts checkOpenEgress).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.egressRule, ...types.securityGroupRule, ...types.securityGroup],
  validateStack: (args, report) => reportProblems(args.resources, checkOpenEgress(graphOf(args.resources)), report),
};

export const defaultSecurityGroupClosed: PackPolicy = {
  name: "default-security-group-closed",
  description:
    "Every VPC the stack creates adopts its default security group with no rules (Security Hub EC2.2; policy/network.ts checkDefaultSecurityGroups).",
  enforcementLevel: "mandatory",
  resourceTypes: ["aws:ec2/vpc:Vpc", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"],
  validateStack: (args, report) =>
    reportProblems(args.resources, checkDefaultSecurityGroups(graphOf(args.resources)), report),
};

export const networkPolicies: PackPolicy[] = [
  noOpenIngress,
  securityGroupRulesDescribed,
  egressRestricted,
  defaultSecurityGroupClosed,
];
