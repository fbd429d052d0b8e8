// Network: either an existing VPC and its subnets, or a new VPC with one public and one private
// subnet per AZ and NAT egress for the private ones. A created VPC also gets an S3 gateway endpoint, on request
// interface endpoints (endpoints.ts), and its default security group emptied (no rule in or out: Security Hub
// EC2.2, CIS 5.4; nothing here uses it). Either VPC may get flow logs (flowLogs.ts).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { formatProblem } from "../../contract/problem";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { defaultInterfaceEndpointServices, vpcEndpoints } from "./endpoints";
import { flowLogs } from "./flowLogs";
import { checkNetworkArgs, subnetCidr } from "./rules";
export { checkNetworkArgs, defaultInterfaceEndpointServices, subnetCidr };

export interface NetworkArgs {
  /** Existing VPC; give publicSubnetIds and privateSubnetIds with it, and no cidrBlock. Default none: create one. */
  vpcId?: pulumi.Input<string>;
  /** Public subnets of vpcId (load balancer), one per AZ. Default none (required with vpcId). */
  publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** Private subnets of vpcId (instances), one per AZ. Default none (required with vpcId). */
  privateSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** CIDR of the VPC to create (a /16 to /20). Default 10.0.0.0/16. */
  cidrBlock?: pulumi.Input<string>;
  /** AZs to spread over when creating the VPC: 2 to 6. Plain: it sets a count. Default 2. */
  azCount?: number;
  /** One NAT gateway per AZ (survives an AZ outage) instead of a single shared one. Plain: it sets a count. Default false. */
  natGatewayPerAz?: boolean;
  /**
   * Interface endpoints with private DNS in the private subnets, so the hosts' AWS API calls stay in the VPC (one
   * network interface per AZ and service, billed hourly). Created VPC only. Plain: it adds resources. Default false.
   */
  interfaceEndpoints?: boolean;
  /** Services of the interface endpoints (`com.amazonaws.<region>.<service>`). Plain. Default defaultInterfaceEndpointServices. */
  interfaceEndpointServices?: string[];
  /** VPC flow logs of all traffic to a CloudWatch Logs group, for the created or the given VPC. Plain: it adds resources. Default false. */
  flowLogs?: boolean;
  /** Days the flow log group keeps events: a CloudWatch Logs retention value (Security Hub CloudWatch.16 asks 365+). Default 365. */
  flowLogRetentionDays?: number;
  /** Tags of every resource created. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class Network extends pulumi.ComponentResource {
  /** The VPC: the given one, or the one created. */
  public readonly vpcId: pulumi.Output<string>;
  /** Public subnets, one per AZ, in AZ order. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Private subnets (egress through NAT), one per AZ, in AZ order. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /**
   * Ids of the internet gateway, the public route table and its subnet associations: an internet-facing load
   * balancer is created after them (aws-cdk's internetConnectivityEstablished). Empty for an existing VPC.
   */
  public readonly internetConnectivityEstablished: pulumi.Output<string[]>;
  /** Ids of the NAT gateways, the private route tables and their associations: instances launch after them. Empty for an existing VPC. */
  public readonly privateEgressEstablished: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Network"), name, {}, withFormerType("node-service:network:Network", opts));
    const errors = checkNetworkArgs(args);
    if (errors.length) throw new pulumi.RunError(`Network ${name}: ${errors.map(formatProblem).join("; ")}`);

    if (args.vpcId !== undefined) {
      this.vpcId = pulumi.output(args.vpcId);
      this.publicSubnetIds = pulumi.output(args.publicSubnetIds!);
      this.privateSubnetIds = pulumi.output(args.privateSubnetIds!);
      this.internetConnectivityEstablished = pulumi.output([]);
      this.privateEgressEstablished = pulumi.output([]);
    } else {
      const azCount = args.azCount ?? 2;
      const cidr = pulumi.output(args.cidrBlock ?? "10.0.0.0/16");
      const tags = pulumi.output(args.tags ?? {});
      const withName = (n: string) => tags.apply((t) => ({ ...t, Name: n }));
      const azs = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
      const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: withName(name) },
        { parent: this },
      );
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: withName(name) }, { parent: this });
      const publicRt = new aws.ec2.RouteTable(
        `${name}-public`,
        { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: withName(`${name}-public`) },
        { parent: this },
      );
      const publicIds: pulumi.Output<string>[] = [];
      const privateIds: pulumi.Output<string>[] = [];
      const nats: aws.ec2.NatGateway[] = [];
      const internet: pulumi.Output<string>[] = [igw.id, publicRt.id];
      const egress: pulumi.Output<string>[] = [];
      const privateRouteTableIds: pulumi.Output<string>[] = [];
      const perAz = args.natGatewayPerAz ?? false;
      for (let i = 0; i < azCount; i++) {
        const az = azs.names.apply((n) => {
          const v = n[i];
          if (!v)
            throw new pulumi.RunError(`Network ${name}: azCount ${azCount} exceeds the ${n.length} AZs of this region`);
          return v;
        });
        const pub = new aws.ec2.Subnet(
          `${name}-public-${i}`,
          {
            vpcId: vpc.id,
            availabilityZone: az,
            cidrBlock: cidr.apply((c) => subnetCidr(c, 4, i)),
            mapPublicIpOnLaunch: false,
            tags: withName(`${name}-public-${i}`),
          },
          { parent: this },
        );
        internet.push(
          new aws.ec2.RouteTableAssociation(
            `${name}-public-${i}`,
            { subnetId: pub.id, routeTableId: publicRt.id },
            { parent: this },
          ).id,
        );
        publicIds.push(pub.id);
        if (perAz || i === 0) {
          const eip = new aws.ec2.Eip(
            `${name}-nat-${i}`,
            { domain: "vpc", tags: withName(`${name}-nat-${i}`) },
            { parent: this },
          );
          nats.push(
            new aws.ec2.NatGateway(
              `${name}-nat-${i}`,
              { allocationId: eip.id, subnetId: pub.id, tags: withName(`${name}-nat-${i}`) },
              { parent: this, dependsOn: [igw] },
            ),
          );
        }
        const natId = nats[perAz ? i : 0]!.id;
        const priv = new aws.ec2.Subnet(
          `${name}-private-${i}`,
          {
            vpcId: vpc.id,
            availabilityZone: az,
            cidrBlock: cidr.apply((c) => subnetCidr(c, 4, 8 + i)),
            tags: withName(`${name}-private-${i}`),
          },
          { parent: this },
        );
        const rt = new aws.ec2.RouteTable(
          `${name}-private-${i}`,
          {
            vpcId: vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: natId }],
            tags: withName(`${name}-private-${i}`),
          },
          { parent: this },
        );
        const assoc = new aws.ec2.RouteTableAssociation(
          `${name}-private-${i}`,
          { subnetId: priv.id, routeTableId: rt.id },
          { parent: this },
        );
        egress.push(rt.id, assoc.id);
        privateIds.push(priv.id);
        privateRouteTableIds.push(rt.id);
      }
      vpcEndpoints(
        name,
        {
          vpcId: vpc.id,
          vpcCidr: cidr,
          privateSubnetIds: privateIds,
          privateRouteTableIds,
          tags,
          interfaceServices: args.interfaceEndpoints
            ? (args.interfaceEndpointServices ?? defaultInterfaceEndpointServices)
            : [],
        },
        this,
      );
      // Adopted with no rules: Pulumi removes every rule AWS gave it, and nothing can be launched into it by mistake.
      new aws.ec2.DefaultSecurityGroup(
        `${name}-default`,
        { vpcId: vpc.id, tags: withName(`${name}-default`) },
        { parent: this },
      );
      this.vpcId = vpc.id;
      this.publicSubnetIds = pulumi.all(publicIds);
      this.privateSubnetIds = pulumi.all(privateIds);
      this.internetConnectivityEstablished = pulumi.all(internet);
      this.privateEgressEstablished = pulumi.all([...nats.map((n) => n.id), ...egress]);
    }
    if (args.flowLogs)
      flowLogs(name, { vpcId: this.vpcId, retentionDays: args.flowLogRetentionDays ?? 365, tags: args.tags }, this);
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      internetConnectivityEstablished: this.internetConnectivityEstablished,
      privateEgressEstablished: this.privateEgressEstablished,
    });
  }
}
