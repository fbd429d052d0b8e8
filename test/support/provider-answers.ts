// What the cloud answers in tests: the data-source lookups a program may call, and plausible
// provider-computed outputs per resource type. The Pulumi mocks (test/pulumi-mocks.ts) and the stand-in
// engine (test/engine/) both answer from here, so a lookup added for one is there for the other, and an
// unlisted lookup fails in both. Pure data: no Pulumi import.

export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";
export const MOCK_AMI_ID = "ami-0123456789abcdef0";

export const lookups: Record<string, (inputs: Record<string, any>) => Record<string, unknown>> = {
  "aws:ec2/getAmi:getAmi": (i) => ({
    id: MOCK_AMI_ID,
    imageId: MOCK_AMI_ID,
    name: String(i.filters?.find((f: any) => f.name === "name")?.values?.[0] ?? "debian-12-amd64-mock").replace(
      "*",
      "20251006-2257",
    ),
    ownerId: i.owners?.[0],
    architecture: "x86_64",
    rootDeviceName: "/dev/xvda",
  }),
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    id: REGION,
    names: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
    zoneIds: ["use1-az1", "use1-az2", "use1-az4"],
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: ACCOUNT_ID,
    accountId: ACCOUNT_ID,
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`,
    userId: "AIDATEST",
  }),
  "aws:index/getRegion:getRegion": () => ({
    id: REGION,
    name: REGION,
    region: REGION,
    endpoint: `ec2.${REGION}.amazonaws.com`,
  }),
  // The IAM actions Datadog's AWS integration documents (a few of them: enough for the role policy).
  "datadog:aws/getIntegrationIamPermissionsStandard:getIntegrationIamPermissionsStandard": () => ({
    id: "standard",
    iamPermissions: ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:DescribeInstances", "tag:GetResources"],
  }),
  "aws:index/getPartition:getPartition": () => ({
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  }),
};

/** Plausible provider-computed outputs per resource type. */
export function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  if (type.startsWith("docker:") || type.startsWith("docker-build:")) return dockerOutputsFor(type, name, inputs);
  const svc = type.split(":")[1]?.split("/")[0] ?? "x";
  const base: Record<string, unknown> = { arn: `arn:aws:${svc}:${REGION}:${ACCOUNT_ID}:${name}` };
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        ...base,
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:loadbalancer/app/${name}/50dc6c495c0c9188`,
        arnSuffix: `app/${name}/50dc6c495c0c9188`,
        dnsName: `${name}-1234567890.${REGION}.elb.amazonaws.com`,
        zoneId: "Z35SXDOTRQ7X7K",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return {
        ...base,
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/${name}/73e2d6bc24d8a067`,
        arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067`,
      };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, latestVersion: 1, defaultVersion: 1 };
    case "aws:s3/bucket:Bucket": {
      const bucket = inputs.bucket ?? `${name}-a1b2c3`;
      return {
        ...base,
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketRegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com`,
      };
    }
    case "aws:ssm/parameter:Parameter":
      return { ...base, arn: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${inputs.name}` };
    case "aws:kms/key:Key":
      return { ...base, arn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${name}-0000`, keyId: `${name}-0000` };
    case "aws:iam/role:Role":
    case "aws:iam/instanceProfile:InstanceProfile":
      return {
        ...base,
        arn: `arn:aws:iam::${ACCOUNT_ID}:${type.endsWith("Role") ? "role" : "instance-profile"}/${name}-x1`,
        name: inputs.name ?? `${name}-x1`,
      };
    case "aws:autoscaling/group:Group":
      return { ...base, name: inputs.name ?? `${name}-x1` };
    case "aws:ec2/vpc:Vpc":
      return { ...base, cidrBlock: inputs.cidrBlock };
    default:
      return { ...base, name: inputs.name ?? `${name}-x1` };
  }
}

/** A stable fake sha256 digest for a name, as the Docker engine would report one. */
const fakeDigest = (seed: string) =>
  `sha256:${Array.from({ length: 64 }, (_, i) => "0123456789abcdef"[(seed.charCodeAt(i % seed.length) + i) % 16]).join("")}`;

/** The docker target: what the Docker engine and BuildKit hand back (docker-build's ref is a tag of a loaded image). */
function dockerOutputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "docker-build:index:Image":
      return { ref: inputs.tags?.[0] ?? "", digest: fakeDigest(JSON.stringify(inputs.tags ?? name)), contextHash: "x" };
    case "docker:index/remoteImage:RemoteImage":
      return {
        imageId: fakeDigest(String(inputs.name)),
        repoDigest: `${inputs.name}@${fakeDigest(String(inputs.name))}`,
      };
    default:
      return { name: inputs.name ?? `${name}-x1` };
  }
}
