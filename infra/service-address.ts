// Where clients reach the service: https://<domainName> with a Route 53 alias of the load balancer, or the
// load balancer's own name, with a note saying what is missing.
import * as pulumi from "@pulumi/pulumi";
import { ServiceDns, serviceUrlOf } from "../components/dns";
import type { StackConfig } from "./config";
import type { StackOutputs } from "./stack";

/** The load balancer clients reach, as each flavor makes it (the ALB, or the HAProxy tier's NLB). */
export interface LoadBalancerAddress {
  dnsName: pulumi.Output<string>;
  zoneId: pulumi.Output<string>;
  /** https://<dnsName> with a certificate, http://<dnsName> without. */
  url: pulumi.Output<string>;
}

/**
 * The service's URL: https://<domainName>, the name the certificate covers, with a Route 53 alias of the load
 * balancer when the hosted zone is given. Without a domain the URL is the load balancer's own, and a note
 * says why HTTPS there fails (no certificate of yours can cover *.elb.amazonaws.com).
 */
export function serviceAddress(
  c: StackConfig,
  name: string,
  lb: LoadBalancerAddress,
): Pick<StackOutputs, "serviceUrl" | "serviceUrlNote"> {
  const https = c.certificateArn !== "";
  if (!c.domainName) {
    const note = https
      ? "no domainName: HTTPS on the load balancer's AWS name (*.elb.amazonaws.com) matches no certificate of yours, so clients refuse it; " +
        "set domainName (and hostedZoneId) to the name certificateArn covers"
      : "no domainName: serviceUrl is the load balancer's AWS name, over plain HTTP; set certificateArn, domainName and hostedZoneId to serve HTTPS on your domain";
    return { serviceUrl: lb.url, serviceUrlNote: pulumi.output(note) };
  }
  const serviceUrl = pulumi.output(serviceUrlOf(c.domainName, https));
  if (!c.hostedZoneId)
    return {
      serviceUrl,
      serviceUrlNote: pulumi.interpolate`no hostedZoneId: point ${c.domainName} at ${lb.dnsName} in your DNS (a CNAME record, or your provider's alias)`,
    };
  // A only: neither load balancer is dualstack (the network has no IPv6 CIDR), so an AAAA alias would answer nothing.
  new ServiceDns(name, {
    domainName: c.domainName,
    hostedZoneId: c.hostedZoneId,
    loadBalancerDnsName: lb.dnsName,
    loadBalancerZoneId: lb.zoneId,
  });
  return { serviceUrl };
}
