// How HAProxy finds the service hosts: their private IPs form one A record set in a Route 53 private
// hosted zone of the VPC, which every node resolves at run time through the VPC resolver.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DiscoveryArgs {
  vpcId: pulumi.Input<string>;
  /** The private zone and the fleet record's name (contract/layout.ts fleetDnsNames). */
  dns: { zone: string; fleet: string };
  serviceName: string;
  env: string;
  tags: Record<string, string>;
  /** The service hosts whose private IPs the record holds. */
  hosts: aws.ec2.Instance[];
}

/** The zone `<name>-zone` and the record `<name>-fleet`. */
export function discovery(
  name: string,
  a: DiscoveryArgs,
  parent: pulumi.Resource,
): { zone: aws.route53.Zone; record: aws.route53.Record } {
  const zone = new aws.route53.Zone(
    `${name}-zone`,
    {
      name: a.dns.zone,
      comment: `Service discovery of ${a.serviceName} (${a.env}) for HAProxy`,
      vpcs: [{ vpcId: a.vpcId }],
      forceDestroy: true,
      tags: a.tags,
    },
    { parent },
  );
  const record = new aws.route53.Record(
    `${name}-fleet`,
    {
      zoneId: zone.zoneId,
      name: a.dns.fleet,
      type: "A",
      // Short TTL: HAProxy holds a vanished address for 10 s more, so a replaced host leaves within ~20 s.
      ttl: 10,
      records: a.hosts.map((h) => h.privateIp),
    },
    { parent },
  );
  return { zone, record };
}
