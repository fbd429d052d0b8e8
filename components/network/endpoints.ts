// VPC endpoints of a created VPC, so the hosts reach AWS without leaving the VPC (security review F9):
// - an S3 gateway endpoint on the private route tables, always (gateway endpoints cost nothing): the bundle and
//   every other S3 request of the hosts stay off the NAT;
// - on request, interface endpoints with private DNS in the private subnets (one network interface per AZ, billed
//   per hour) for the APIs the hosts call: SSM, its two message channels and KMS (the agent, Session Manager and
//   the boot's SecureString reads), CloudWatch (monitoring), and EC2, which Security Hub's EC2.10 asks of every VPC
//   (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-10). Their security group takes
//   HTTPS from the VPC only. SSM's own list of endpoints: https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
// Service names are com.amazonaws.<region>.<service> in the looked-up partition's reverse DNS prefix
// (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The interface endpoints the hosts use, and EC2 for EC2.10. */
export const defaultInterfaceEndpointServices: readonly string[] = [
  "ssm",
  "ssmmessages",
  "ec2messages",
  "kms",
  "monitoring",
  "ec2",
];

export interface VpcEndpointsArgs {
  vpcId: pulumi.Input<string>;
  vpcCidr: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  privateRouteTableIds: pulumi.Input<string>[];
  /** Interface endpoints to create; [] for none. */
  interfaceServices: readonly string[];
  tags: pulumi.Output<Record<string, string>>;
}

/** `<name>-s3` (gateway) and, per service, `<name>-<service>` with the security group `<name>-endpoints`. */
export function vpcEndpoints(name: string, a: VpcEndpointsArgs, parent: pulumi.Resource): void {
  const opts = { parent };
  const p = aws.getPartitionOutput({}, opts);
  const region = aws.getRegionOutput({}, opts).region;
  const serviceName = (service: string) => pulumi.interpolate`${p.reverseDnsPrefix}.${region}.${service}`;
  const withName = (n: string) => a.tags.apply((t) => ({ ...t, Name: n }));
  new aws.ec2.VpcEndpoint(
    `${name}-s3`,
    {
      vpcId: a.vpcId,
      serviceName: serviceName("s3"),
      vpcEndpointType: "Gateway",
      routeTableIds: a.privateRouteTableIds,
      tags: withName(`${name}-s3`),
    },
    opts,
  );
  if (a.interfaceServices.length === 0) return;
  const sg = new aws.ec2.SecurityGroup(
    `${name}-endpoints`,
    {
      vpcId: a.vpcId,
      description: "Interface VPC endpoints: HTTPS from the VPC only",
      tags: withName(`${name}-endpoints`),
    },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-endpoints-https`,
    {
      securityGroupId: sg.id,
      cidrIpv4: a.vpcCidr,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "HTTPS to the AWS APIs from inside the VPC",
    },
    opts,
  );
  for (const service of a.interfaceServices)
    new aws.ec2.VpcEndpoint(
      `${name}-${service}`,
      {
        vpcId: a.vpcId,
        serviceName: serviceName(service),
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: a.privateSubnetIds,
        securityGroupIds: [sg.id],
        tags: withName(`${name}-${service}`),
      },
      opts,
    );
}
