// The Security Hub controls of policy/securityHub.ts: on hand-made graphs, and on prod in both flavors, where their
// results must be what README.md's "AWS Security Hub (FSBP) in prod" table states (that table is kept true here).
// Control definitions: https://docs.aws.amazon.com/securityhub/latest/userguide/{autoscaling,ec2,elb,s3}-controls.html.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stackGraph } from "../test/support/stackGraph";
import type { GraphResource } from "./graph";
import { ControlStatus, evaluateSecurityHub, securityHubControls } from "./securityHub";

const r = (type: string, name: string, inputs: object = {}): GraphResource => ({
  type,
  name,
  inputs,
  id: `${name}-id`,
});

describe("controls on hand-made graphs", () => {
  it("S3: logging, versioning, Object Lock and KMS are judged per bucket, linked by the bucket's id", () => {
    const g = [
      r("aws:s3/bucket:Bucket", "a"),
      r("aws:s3/bucket:Bucket", "b", { objectLockEnabled: true }),
      r("aws:s3/bucketLogging:BucketLogging", "a", { bucket: "a-id", targetBucket: "b" }),
      r("aws:s3/bucketVersioning:BucketVersioning", "a", {
        bucket: "a-id",
        versioningConfiguration: { status: "Enabled" },
      }),
      r("aws:s3/bucketVersioning:BucketVersioning", "b", {
        bucket: "b-id",
        versioningConfiguration: { status: "Suspended" },
      }),
      r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "a", {
        bucket: "a-id",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      }),
      r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "b", {
        bucket: "b-id",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      }),
    ];
    const results = evaluateSecurityHub(g);
    for (const id of ["S3.9", "S3.14", "S3.17"])
      expect(results[id], id).toEqual({ status: "PARTIAL", failing: ["aws:s3/bucket:Bucket::b"] });
    expect(results["S3.15"]).toEqual({ status: "PARTIAL", failing: ["aws:s3/bucket:Bucket::a"] });
  });

  it("EC2 and ELB: a VPC's default SG, flow log and EC2 endpoint; listeners' protocols; a web ACL per ALB; mixed instance types", () => {
    const pass = evaluateSecurityHub([
      r("aws:ec2/vpc:Vpc", "v"),
      r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", { vpcId: "v-id" }),
      r("aws:ec2/flowLog:FlowLog", "f", { vpcId: "v-id" }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "e", { vpcId: "v-id", serviceName: "com.amazonaws.eu-west-1.ec2" }),
      r("aws:lb/loadBalancer:LoadBalancer", "lb", { loadBalancerType: "application" }),
      r("aws:wafv2/webAclAssociation:WebAclAssociation", "w", { resourceArn: "lb-id" }),
      r("aws:lb/listener:Listener", "l", { protocol: "HTTPS" }),
      r("aws:autoscaling/group:Group", "g", {
        mixedInstancesPolicy: {
          launchTemplate: { overrides: [{ instanceType: "m7i.large" }, { instanceType: "m6i.large" }] },
        },
      }),
    ]);
    for (const id of ["AutoScaling.6", "EC2.2", "EC2.6", "EC2.10", "ELB.16", "ELB.18"])
      expect(pass[id]!.status, id).toBe("PASS");
    const fail = evaluateSecurityHub([
      r("aws:ec2/vpc:Vpc", "v"),
      r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", { vpcId: "v-id", egress: [{ protocol: "-1" }] }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "e", { vpcId: "v-id", serviceName: "com.amazonaws.eu-west-1.s3" }),
      r("aws:lb/loadBalancer:LoadBalancer", "lb", {}),
      r("aws:lb/listener:Listener", "l", { protocol: "HTTP" }),
      r("aws:autoscaling/group:Group", "g", { launchTemplate: { id: "lt" } }),
    ]);
    for (const id of ["AutoScaling.6", "EC2.2", "EC2.6", "EC2.10", "ELB.16", "ELB.18"])
      expect(fail[id]!.status, id).toBe("FAIL");
    expect(evaluateSecurityHub([])["EC2.6"]!.status).toBe("N/A");
  });
});

/** README.md's table: control -> [prod alb, prod haproxy] statuses. */
function readmeTable(): Map<string, [string, string]> {
  const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## AWS Security Hub (FSBP) in prod"));
  const rows = new Map<string, [string, string]>();
  for (const m of section.matchAll(
    /^\| ((?:AutoScaling|EC2|ELB|S3)\.\d+) \| \*{0,2}([A-Z/]+)\*{0,2} \| \*{0,2}([A-Z/]+)\*{0,2} \|/gm,
  ))
    rows.set(m[1]!, [m[2]!, m[3]!]);
  return rows;
}

describe("prod, as README.md states it", () => {
  const results: Record<string, Record<string, { status: ControlStatus; failing: string[] }>> = {};
  beforeAll(async () => {
    for (const flavor of ["alb", "haproxy"] as const)
      results[flavor] = evaluateSecurityHub(await stackGraph("prod", flavor));
  });

  it("the README lists every control this file judges, and each status is what the graph decides", () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(securityHubControls).sort());
    for (const [id, [alb, haproxy]] of table) {
      expect(`${id} alb ${results.alb![id]!.status}`).toBe(`${id} alb ${alb}`);
      expect(`${id} haproxy ${results.haproxy![id]!.status}`).toBe(`${id} haproxy ${haproxy}`);
    }
  });

  it("where it is partial, only the log buckets and the redirect listener fail, as the README explains", () => {
    const partial = (flavor: "alb" | "haproxy") =>
      Object.fromEntries(
        Object.entries(results[flavor]!)
          .filter(([, v]) => v.status === "PARTIAL")
          .map(([k, v]) => [k, v.failing]),
      );
    expect(partial("alb")).toEqual({
      "ELB.18": ["aws:lb/listener:Listener::sample-api-http"],
      "S3.9": ["aws:s3/bucket:Bucket::sample-api-access-logs"],
      "S3.17": ["aws:s3/bucket:Bucket::sample-api-access-logs", "aws:s3/bucket:Bucket::sample-api-logs"],
    });
    expect(partial("haproxy")).toEqual({
      "S3.9": ["aws:s3/bucket:Bucket::sample-api-access-logs"],
      "S3.17": ["aws:s3/bucket:Bucket::sample-api-access-logs", "aws:s3/bucket:Bucket::sample-api-nlb-logs"],
    });
  });
});
