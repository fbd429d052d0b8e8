// The fleet's security group: the service port from the load balancer only; outbound HTTPS and the
// Papertrail port only. Created with the Fleet as parent, under the names it always had.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface InstanceSecurityGroupArgs {
  vpcId: pulumi.Input<string>;
  port: number;
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  papertrailPort?: pulumi.Input<number>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export function instanceSecurityGroup(
  name: string,
  a: InstanceSecurityGroupArgs,
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
  const sg = new aws.ec2.SecurityGroup(
    `${name}-instances`,
    {
      vpcId: a.vpcId,
      description: "Service instances: the service port from the load balancer only",
      tags: a.tags,
    },
    { parent },
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-from-lb`,
    {
      securityGroupId: sg.id,
      referencedSecurityGroupId: a.loadBalancerSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: a.port,
      toPort: a.port,
      description: "Service port from the load balancer (traffic and health checks)",
    },
    { parent },
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-lb-to-instances`,
    {
      securityGroupId: a.loadBalancerSecurityGroupId,
      referencedSecurityGroupId: sg.id,
      ipProtocol: "tcp",
      fromPort: a.port,
      toPort: a.port,
      description: "Load balancer to the service port of the instances",
    },
    { parent },
  );
  // Outbound: HTTPS (AWS APIs through the VPC endpoints or the NAT, Datadog, the package repositories, which the
  // boot reads over HTTPS only) and the Papertrail port; nothing else (review F9).
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-egress`,
    {
      securityGroupId: sg.id,
      cidrIpv4: "0.0.0.0/0",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "HTTPS: AWS APIs, Datadog, package repositories (apt over HTTPS)",
    },
    { parent },
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-egress-papertrail`,
    {
      securityGroupId: sg.id,
      cidrIpv4: "0.0.0.0/0",
      ipProtocol: "tcp",
      fromPort: a.papertrailPort ?? 443,
      toPort: a.papertrailPort ?? 443,
      description: "Syslog over TLS to Papertrail",
    },
    { parent },
  );
  return sg;
}
