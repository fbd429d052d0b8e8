import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { settle, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { ServiceDns, checkServiceDnsArgs, serviceUrlOf } from "./index";

const mocks = useMocks();

const lb = {
  loadBalancerDnsName: "sample-api-1234567890.us-east-1.elb.amazonaws.com",
  loadBalancerZoneId: "Z35SXDOTRQ7X7K",
};

describe("ServiceDns", () => {
  it("points the domain at the load balancer with a Route 53 alias A record that follows the load balancer's health", async () => {
    const dns = new ServiceDns("svc", { domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ", ...lb });
    expect(await valueOf(dns.domainName)).toBe("api.example.com");
    await settle();
    const records = mocks.ofType("aws:route53/record:Record");
    expect(records.map((r) => [r.name, r.inputs.type])).toEqual([["svc-a", "A"]]);
    expect(records[0]!.inputs).toMatchObject({
      zoneId: "Z0123456789ABCDEFGHIJ",
      name: "api.example.com",
      type: "A",
      aliases: [{ name: lb.loadBalancerDnsName, zoneId: lb.loadBalancerZoneId, evaluateTargetHealth: true }],
    });
    // An alias has no TTL and no values of its own (Route 53 answers with the load balancer's addresses).
    expect(records[0]!.inputs.ttl).toBeUndefined();
    expect(records[0]!.inputs.records).toBeUndefined();
    // Never takes over a record someone else made (the provider's default, said here on purpose).
    expect(records[0]!.inputs.allowOverwrite).toBe(false);
  });

  it("adds the AAAA alias for a dualstack load balancer", async () => {
    new ServiceDns("six", { domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ", ipv6: true, ...lb });
    await settle();
    const records = mocks.ofType("aws:route53/record:Record");
    expect(records.map((r) => [r.name, r.inputs.type])).toEqual([
      ["six-a", "A"],
      ["six-aaaa", "AAAA"],
    ]);
    expect(records[1]!.inputs.aliases).toEqual(records[0]!.inputs.aliases);
  });

  it("refuses a name or zone Route 53 or ACM would refuse, before anything is created", () => {
    const make = () => new ServiceDns("bad", { domainName: "API.example.com", hostedZoneId: "/hostedzone/Z01", ...lb });
    expect(make).toThrow(pulumi.RunError);
    expect(make).toThrow(/^ServiceDns bad: domainName: "API.example.com" must be a lowercase host name/);
  });
});

describe("checkServiceDnsArgs", () => {
  it.each([
    [{ domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" }, []],
    [{ domainName: "example.com", hostedZoneId: "Z1" }, []],
    [{ domainName: "api", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "-api.example.com", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "api-.example.com", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "api..example.com", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "*.example.com", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: `${"a".repeat(64)}.example.com`, hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: `${`${"a".repeat(62)}.`.repeat(4)}com`, hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "api.example.com.", hostedZoneId: "Z1" }, ["domainName"]],
    [{ domainName: "api.example.com", hostedZoneId: "/hostedzone/Z1" }, ["hostedZoneId"]],
    [{ domainName: "api.example.com", hostedZoneId: `Z${"A".repeat(32)}` }, ["hostedZoneId"]],
  ])("%j -> problems with %j", (args, fields) => {
    expect(checkServiceDnsArgs(args).map((p) => p.field)).toEqual(fields);
  });

  it("says the limit and the fix in each message", () => {
    expect(
      checkServiceDnsArgs({ domainName: `${"a".repeat(64)}.example.com`, hostedZoneId: "/hostedzone/Z1" }).map(
        (p) => p.message,
      ),
    ).toEqual([
      expect.stringMatching(/labels of 1-63 characters .* at most 253 characters/),
      expect.stringMatching(
        /^"\/hostedzone\/Z1" must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ \(Z and up to 31 letters or digits\): drop the \/hostedzone\/ prefix$/,
      ),
    ]);
  });
});

describe("serviceUrlOf", () => {
  it("is https://<domain> with a certificate, http://<domain> without", () => {
    expect(serviceUrlOf("api.example.com", true)).toBe("https://api.example.com");
    expect(serviceUrlOf("api.example.com", false)).toBe("http://api.example.com");
  });
});
