// The AWS Security Hub controls (AWS Foundational Security Best Practices) the security review expected to fail in
// prod, judged over the resource graph the way each control's AWS Config rule judges the deployed resources. Control
// definitions: https://docs.aws.amazon.com/securityhub/latest/userguide/{autoscaling,ec2,elb,s3}-controls.html.
// README.md "Security Hub" states the result of each for prod in both flavors; policy/securityHub.test.ts keeps that
// table equal to what these functions decide.
//
// Resources are linked the way the provider links them: a bucket's configuration resources name it by `bucket` =
// the bucket's id, a VPC's endpoints and flow logs by `vpcId`, a web ACL association by `resourceArn` = the load
// balancer's id (its ARN). GraphResource.id carries the id where the graph knows it.
import { Graph, GraphResource, keyOf, ofType } from "./graph";

export type ControlStatus = "PASS" | "FAIL" | "PARTIAL" | "N/A";

export interface ControlResult {
  status: ControlStatus;
  /** `type::name` of each evaluated resource that fails. */
  failing: string[];
}

export interface Control {
  title: string;
  evaluate(g: Graph): ControlResult;
}

/** PASS when every evaluated resource passes, FAIL when none does, PARTIAL in between, N/A when there is none. */
function judge(resources: GraphResource[], passes: (r: GraphResource) => boolean): ControlResult {
  const failing = resources.filter((r) => !passes(r)).map(keyOf);
  const status: ControlStatus =
    resources.length === 0
      ? "N/A"
      : failing.length === 0
        ? "PASS"
        : failing.length === resources.length
          ? "FAIL"
          : "PARTIAL";
  return { status, failing };
}

const idOf = (r: GraphResource) => r.id ?? r.inputs.bucket ?? r.name;
const linked = (g: Graph, type: string, key: string, target: GraphResource) =>
  ofType(g, type).filter((x) => x.inputs[key] === idOf(target));
const buckets = (g: Graph) => ofType(g, "aws:s3/bucket:Bucket");
const vpcs = (g: Graph) => ofType(g, "aws:ec2/vpc:Vpc");

export const securityHubControls: Readonly<Record<string, Control>> = {
  "AutoScaling.6": {
    title: "Auto Scaling groups should use multiple instance types in multiple Availability Zones",
    evaluate: (g) =>
      judge(ofType(g, "aws:autoscaling/group:Group"), (asg) => {
        const overrides = asg.inputs.mixedInstancesPolicy?.launchTemplate?.overrides ?? [];
        return new Set(overrides.map((o: { instanceType?: string }) => o.instanceType).filter(Boolean)).size >= 2;
      }),
  },
  "EC2.2": {
    title: "VPC default security groups should not allow inbound or outbound traffic",
    evaluate: (g) =>
      judge(vpcs(g), (vpc) =>
        linked(g, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "vpcId", vpc).some(
          (d) => (d.inputs.ingress ?? []).length === 0 && (d.inputs.egress ?? []).length === 0,
        ),
      ),
  },
  "EC2.6": {
    title: "VPC flow logging should be enabled in all VPCs",
    evaluate: (g) => judge(vpcs(g), (vpc) => linked(g, "aws:ec2/flowLog:FlowLog", "vpcId", vpc).length > 0),
  },
  "EC2.10": {
    title: "Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2 service",
    evaluate: (g) =>
      judge(vpcs(g), (vpc) =>
        linked(g, "aws:ec2/vpcEndpoint:VpcEndpoint", "vpcId", vpc).some((e) =>
          /\.ec2$/.test(String(e.inputs.serviceName)),
        ),
      ),
  },
  "ELB.16": {
    title: "Application Load Balancers should be associated with an AWS WAF web ACL",
    evaluate: (g) =>
      judge(
        ofType(g, "aws:lb/loadBalancer:LoadBalancer").filter(
          (lb) => (lb.inputs.loadBalancerType ?? "application") === "application",
        ),
        (lb) => linked(g, "aws:wafv2/webAclAssociation:WebAclAssociation", "resourceArn", lb).length > 0,
      ),
  },
  "ELB.18": {
    title: "Application and Network Load Balancer listeners should use secure protocols to encrypt data in transit",
    evaluate: (g) =>
      judge(ofType(g, "aws:lb/listener:Listener"), (l) => l.inputs.protocol === "HTTPS" || l.inputs.protocol === "TLS"),
  },
  "S3.9": {
    title: "S3 general purpose buckets should have server access logging enabled",
    evaluate: (g) => judge(buckets(g), (b) => linked(g, "aws:s3/bucketLogging:BucketLogging", "bucket", b).length > 0),
  },
  "S3.14": {
    title: "S3 general purpose buckets should have versioning enabled",
    evaluate: (g) =>
      judge(buckets(g), (b) =>
        linked(g, "aws:s3/bucketVersioning:BucketVersioning", "bucket", b).some(
          (v) => v.inputs.versioningConfiguration?.status === "Enabled",
        ),
      ),
  },
  "S3.15": {
    title: "S3 general purpose buckets should have Object Lock enabled",
    evaluate: (g) =>
      judge(
        buckets(g),
        (b) =>
          b.inputs.objectLockEnabled === true ||
          linked(g, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "bucket", b).length > 0,
      ),
  },
  "S3.17": {
    title: "S3 general purpose buckets should be encrypted at rest with AWS KMS keys",
    evaluate: (g) =>
      judge(buckets(g), (b) =>
        linked(
          g,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "bucket",
          b,
        ).some((c) =>
          (c.inputs.rules ?? []).some((r: any) =>
            /^aws:kms/.test(r.applyServerSideEncryptionByDefault?.sseAlgorithm ?? ""),
          ),
        ),
      ),
  },
};

/** Every control's result over one graph. */
export function evaluateSecurityHub(g: Graph): Record<string, ControlResult> {
  return Object.fromEntries(Object.entries(securityHubControls).map(([id, c]) => [id, c.evaluate(g)]));
}
