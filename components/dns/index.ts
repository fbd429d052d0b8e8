// The service's own name: a Route 53 alias record pointing the domain at the load balancer (the ALB, or
// the HAProxy tier's NLB), so clients reach https://<domain>, the name the certificate covers, instead of
// the load balancer's AWS name (*.elb.amazonaws.com), which no certificate of yours can cover.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { formatProblem } from "../../contract/problem";
import { typeToken } from "../_shared/typeToken";
import { checkServiceDnsArgs } from "./rules";
export { checkServiceDnsArgs, isServiceHostName, serviceUrlOf } from "./rules";

export interface ServiceDnsArgs {
  /** The service's host name, like api.example.com: the record's name. Must lie in the hosted zone. */
  domainName: string;
  /** Route 53 hosted zone (public) holding domainName, like Z0123456789ABCDEFGHIJ. */
  hostedZoneId: pulumi.Input<string>;
  /** DNS name of the load balancer the name points at (the ALB's or the NLB's dnsName). */
  loadBalancerDnsName: pulumi.Input<string>;
  /** Route 53 zone of the load balancer's DNS name (the load balancer's zoneId output), not the hosted zone. */
  loadBalancerZoneId: pulumi.Input<string>;
  /**
   * Also an AAAA alias, for a load balancer whose IP address type is dualstack (an IPv4-only load balancer
   * has no IPv6 address to answer with). Default false.
   */
  ipv6?: boolean;
  /** Route 53 answers only while the load balancer has healthy targets in some zone. Default true. */
  evaluateTargetHealth?: pulumi.Input<boolean>;
}

/** Alias record(s) `<name>-a` (and `<name>-aaaa`) for the service's domain. */
export class ServiceDns extends pulumi.ComponentResource {
  /** The record's name (domainName), once Route 53 holds it. */
  public readonly domainName: pulumi.Output<string>;

  constructor(name: string, args: ServiceDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("ServiceDns"), name, {}, opts);
    // Before anything is created; a zone id given as an Output is Route 53's to check.
    const hostedZoneId = typeof args.hostedZoneId === "string" ? args.hostedZoneId : undefined;
    const problems = checkServiceDnsArgs({ domainName: args.domainName, hostedZoneId });
    if (problems.length > 0) throw new pulumi.RunError(`ServiceDns ${name}: ${problems.map(formatProblem).join("; ")}`);

    const aliases = [
      {
        name: args.loadBalancerDnsName,
        zoneId: args.loadBalancerZoneId,
        evaluateTargetHealth: args.evaluateTargetHealth ?? true,
      },
    ];
    const record = (type: "A" | "AAAA") =>
      new aws.route53.Record(
        `${name}-${type.toLowerCase()}`,
        {
          zoneId: args.hostedZoneId,
          name: args.domainName,
          type,
          aliases,
          // A record made by someone else under this name stays theirs: creating this one fails instead.
          allowOverwrite: false,
        },
        { parent: this },
      );
    const a = record("A");
    if (args.ipv6) record("AAAA");

    this.domainName = a.name;
    this.registerOutputs({ domainName: this.domainName });
  }
}
