// Who may talk to whom in the tier: clients -> NLB -> HAProxy's port (and its health URI's port) on the
// nodes -> the service port on the fleet, nothing else inbound; both kinds of host reach HTTPS (AWS APIs,
// Datadog, package repositories over HTTPS) and the Papertrail port, nothing else outbound (review F9).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface TierSecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  serviceName: string;
  env: string;
  tags: Record<string, string>;
  /** The NLB listener's port: 443 with a certificate, 80 without. */
  publicPort: number;
  /** HAProxy's port on the nodes. */
  listenPort: number;
  /** Port of the NLB's health check on the nodes. */
  healthPort: number;
  servicePort: number;
  /** Who may reach the NLB: one ingress rule each. */
  allowedCidrs: pulumi.Input<string>[];
  /** TCP port of the Papertrail destination (per account). */
  papertrailPort: pulumi.Input<number>;
}

export interface TierSecurityGroups {
  nlb: aws.ec2.SecurityGroup;
  node: aws.ec2.SecurityGroup;
  fleet: aws.ec2.SecurityGroup;
}

/** The NLB's, the nodes' and the fleet's security groups and their rules, named `<name>-nlb`, `-node`, `-fleet`. */
export function tierSecurityGroups(
  name: string,
  a: TierSecurityGroupsArgs,
  parent: pulumi.Resource,
): TierSecurityGroups {
  const opts = { parent };
  const { serviceName, env, tags, publicPort, listenPort, healthPort, servicePort } = a;
  const nlb = new aws.ec2.SecurityGroup(
    `${name}-nlb`,
    { vpcId: a.vpcId, description: `NLB in front of the HAProxy nodes of ${serviceName} (${env})`, tags },
    opts,
  );
  const node = new aws.ec2.SecurityGroup(
    `${name}-node`,
    { vpcId: a.vpcId, description: `HAProxy nodes of ${serviceName} (${env})`, tags },
    opts,
  );
  const fleet = new aws.ec2.SecurityGroup(
    `${name}-fleet`,
    { vpcId: a.vpcId, description: `Service hosts of ${serviceName} (${env}) behind HAProxy`, tags },
    opts,
  );

  a.allowedCidrs.forEach((cidr, i) => {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-nlb-in-${i}`,
      {
        securityGroupId: nlb.id,
        cidrIpv4: cidr,
        ipProtocol: "tcp",
        fromPort: publicPort,
        toPort: publicPort,
        description: `Clients to the NLB listener (${publicPort})`,
      },
      opts,
    );
  });
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-nlb-out`,
    {
      securityGroupId: nlb.id,
      referencedSecurityGroupId: node.id,
      ipProtocol: "tcp",
      fromPort: listenPort,
      toPort: listenPort,
      description: "NLB to HAProxy (traffic and health checks)",
    },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-node-in`,
    {
      securityGroupId: node.id,
      referencedSecurityGroupId: nlb.id,
      ipProtocol: "tcp",
      fromPort: listenPort,
      toPort: listenPort,
      description: "HAProxy's port, from the NLB only",
    },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-nlb-health`,
    {
      securityGroupId: nlb.id,
      referencedSecurityGroupId: node.id,
      ipProtocol: "tcp",
      fromPort: healthPort,
      toPort: healthPort,
      description: "NLB health checks of the HAProxy nodes",
    },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-node-health`,
    {
      securityGroupId: node.id,
      referencedSecurityGroupId: nlb.id,
      ipProtocol: "tcp",
      fromPort: healthPort,
      toPort: healthPort,
      description: "HAProxy's health URI, from the NLB only",
    },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-node-to-fleet`,
    {
      securityGroupId: node.id,
      referencedSecurityGroupId: fleet.id,
      ipProtocol: "tcp",
      fromPort: servicePort,
      toPort: servicePort,
      description: "HAProxy to the service port of the fleet (requests and /readyz checks)",
    },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-fleet-in`,
    {
      securityGroupId: fleet.id,
      referencedSecurityGroupId: node.id,
      ipProtocol: "tcp",
      fromPort: servicePort,
      toPort: servicePort,
      description: "Service port, from the HAProxy nodes only",
    },
    opts,
  );
  // Both kinds of host reach AWS APIs (SSM, S3, KMS: through the VPC endpoints or the NAT), Datadog and the package
  // repositories over HTTPS (no port 80: the boot reads apt sources over HTTPS only), and Papertrail on its port.
  for (const [sg, who] of [
    [node, "node"],
    [fleet, "fleet"],
  ] as const) {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-${who}-https`,
      {
        securityGroupId: sg.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS to AWS APIs, Datadog and package repositories",
      },
      opts,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-${who}-syslog-tls`,
      {
        securityGroupId: sg.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: a.papertrailPort,
        toPort: a.papertrailPort,
        description: "Syslog over TLS to Papertrail",
      },
      opts,
    );
  }
  return { nlb, node, fleet };
}
