import { describe, expect, it } from "vitest";
import { settle, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { Alb, accessLogDeliveryStatements, checkAlbTimings } from "./index";

const mocks = useMocks();

const minimal = { vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] };

describe("Alb", () => {
  it("with minimal args: plain HTTP forward, readiness check, safe header handling, access logs", async () => {
    const alb = new Alb("web", minimal);
    expect(await valueOf(alb.url)).toBe("http://web-1234567890.us-east-1.elb.amazonaws.com");
    expect(await valueOf(alb.listenerArns)).toEqual([expect.stringMatching(/:web-http$/)]);
    await settle();
    const lb = mocks.one("aws:lb/loadBalancer:LoadBalancer");
    expect(lb.inputs).toMatchObject({
      loadBalancerType: "application",
      internal: false,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      idleTimeout: 60,
      enableDeletionProtection: false,
      subnets: ["subnet-a", "subnet-b"],
      accessLogs: { enabled: true, bucket: "web-logs-a1b2c3" },
    });
    expect(mocks.one("aws:lb/listener:Listener").inputs).toMatchObject({
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "forward" }],
      routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
    });
    expect(mocks.one("aws:lb/listener:Listener").inputs).not.toHaveProperty(
      "routingHttpResponseStrictTransportSecurityHeaderValue",
    );
    expect(mocks.one("aws:lb/targetGroup:TargetGroup").inputs).toMatchObject({
      port: 3000,
      protocol: "HTTP",
      deregistrationDelay: 30,
      slowStart: 30,
      healthCheck: { path: "/readyz", matcher: "200", port: "traffic-port" },
    });
    const ingress = mocks.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(ingress.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4])).toEqual([[80, "0.0.0.0/0"]]);
    expect(ingress[0]!.inputs.description).toBeTruthy();
    // The log bucket takes ELB's deliveries (us-east-1 is an older region: by account too) and nothing over plain HTTP.
    const logPolicy = JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    expect(logPolicy.Statement.map((s: any) => [s.Sid, s.Principal])).toEqual([
      ["ElbLogDelivery", { Service: "logdelivery.elasticloadbalancing.amazonaws.com" }],
      ["ElbLogDeliveryLegacyRegion", { AWS: "arn:aws:iam::127311923021:root" }],
      ["DenyInsecureTransport", "*"],
      ["DenyOutdatedTls", "*"],
    ]);
  });

  it("with a certificate: HTTPS with a TLS 1.3 policy and a redirect from HTTP", async () => {
    new Alb("tls", {
      ...minimal,
      certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      allowedCidrs: ["10.0.0.0/8"],
      deletionProtection: true,
    });
    await settle();
    const listeners = mocks.ofType("aws:lb/listener:Listener");
    expect(listeners.find((l) => l.inputs.port === 443)!.inputs).toMatchObject({
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      // The same headers as the HAProxy frontend behind a TLS NLB (host/haproxy/config.test.ts).
      routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains",
      routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
    });
    expect(listeners.find((l) => l.inputs.port === 80)!.inputs.defaultActions).toEqual([
      { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
    ]);
    expect(
      mocks
        .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        .map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4])
        .sort(),
    ).toEqual([
      [443, "10.0.0.0/8"],
      [80, "10.0.0.0/8"],
    ]);
    expect(mocks.one("aws:lb/loadBalancer:LoadBalancer").inputs.enableDeletionProtection).toBe(true);
  });

  it.each([
    [{ idleTimeoutSec: 65 }, /keepAliveTimeoutMs: 65000 must exceed the load balancer idle timeout/],
    [{ deregistrationDelaySec: 5 }, /deregistrationDelaySec: 5 must be above drainDelayMs \(10 s\)/],
    [{ deregistrationDelaySec: 45 }, /below the systemd stop timeout \(40 s/],
    [{ slowStartSec: 5 }, /slowStartSec: 5 must be 0 \(off\) or 30-900/],
  ])("refuses timings %o", (extra, message) => {
    expect(() => new Alb("bad", { ...minimal, ...extra })).toThrow(message);
  });

  it("lets ELB deliver logs by service principal everywhere and by ELB account in older regions", () => {
    const old = accessLogDeliveryStatements("arn:aws:s3:::b", "eu-west-1", "111122223333") as any[];
    expect(old.map((s) => s.Principal)).toEqual([
      { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      { AWS: "arn:aws:iam::156460612806:root" },
    ]);
    expect(old[0].Resource).toBe("arn:aws:s3:::b/AWSLogs/111122223333/*");
    const recent = accessLogDeliveryStatements("arn:aws:s3:::b", "ap-southeast-3", "111122223333") as any[];
    expect(recent.map((s) => s.Principal)).toEqual([{ Service: "logdelivery.elasticloadbalancing.amazonaws.com" }]);
    expect(
      checkAlbTimings({
        idleTimeoutSec: 60,
        keepAliveTimeoutMs: 65000,
        drainDelayMs: 10000,
        shutdownTimeoutMs: 30000,
        deregistrationDelaySec: 30,
        slowStartSec: 0,
      }),
    ).toEqual([]);
  });
});
