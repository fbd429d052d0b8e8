// Pure rules of the ServiceDns component (no Pulumi import, so the config schema and `npm run render`
// load fast): the names Route 53 and ACM take.
import { FieldNames, Problem, ownNames } from "../../contract/problem";

/** What checkServiceDnsArgs reads. */
export interface ServiceDnsNames {
  domainName: string;
  /** Checked when known (a plain value). */
  hostedZoneId?: string;
}

/**
 * A host name a public certificate can cover and Route 53 can hold: lowercase labels of letters, digits
 * and dashes (not at either end) of 1-63 characters (Route 53, DNS domain name format: "Each label can be
 * up to 63 bytes long"), at least two labels, at most 253 characters (ACM takes names up to 253 octets in
 * a certificate's subject alternative names). No trailing dot and no wildcard: it is the service's URL.
 * Lowercase, because Route 53 stores names in lowercase and would report a diff on every preview.
 */
export function isServiceHostName(name: string): boolean {
  const labels = name.split(".");
  return (
    name.length <= 253 && labels.length >= 2 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))
  );
}

/** A Route 53 hosted zone id as the API returns it (HostedZone.Id: at most 32 characters), without /hostedzone/. */
export const hostedZoneIdPattern = /^Z[A-Z0-9]{1,31}$/;

/** Problems with the record's names, each with its field; empty when valid. */
export function checkServiceDnsArgs(a: ServiceDnsNames, names: FieldNames = ownNames): Problem[] {
  const problems: Problem[] = [];
  if (!isServiceHostName(a.domainName))
    problems.push({
      field: names("domainName"),
      message:
        `"${a.domainName}" must be a lowercase host name like api.example.com: labels of 1-63 characters ` +
        "(letters, digits, dashes not at either end), at least two, at most 253 characters in all, no trailing dot or wildcard",
    });
  if (a.hostedZoneId !== undefined && !hostedZoneIdPattern.test(a.hostedZoneId))
    problems.push({
      field: names("hostedZoneId"),
      message:
        `"${a.hostedZoneId}" must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (Z and up to 31 letters or digits)` +
        (a.hostedZoneId.startsWith("/hostedzone/") ? ": drop the /hostedzone/ prefix" : ""),
    });
  return problems;
}

/** The service's URL on its domain: https with a certificate (which must cover the domain), http without. */
export function serviceUrlOf(domainName: string, https: boolean): string {
  return `${https ? "https" : "http"}://${domainName}`;
}
