import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { privateBucket, serverAccessLogDelivery } from "./privateBucket";

const mocks = useMocks();

class Holder extends pulumi.ComponentResource {
  constructor(name: string, build: (parent: pulumi.Resource) => void) {
    super("test:index:Holder", name, {}, {});
    build(this);
    this.registerOutputs({});
  }
}

describe("privateBucket", () => {
  it("owner-enforced, no public access, encrypted, with a lifecycle and a TLS-only policy; every part named like the bucket", async () => {
    await runProgram(() => {
      new Holder("h", (parent) =>
        privateBucket(
          "logs",
          {
            lifecycleRules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: 7 } }],
            policyStatements: (arn) => [
              {
                Sid: "Extra",
                Effect: "Allow",
                Principal: { Service: "x.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${arn}/*`,
              },
            ],
          },
          { parent },
        ),
      );
      return {};
    });
    const s3 = mocks.resources.filter((r) => r.type.startsWith("aws:s3/"));
    expect(s3.map((r) => [r.type.split(":").pop(), r.name])).toEqual([
      ["Bucket", "logs"],
      ["BucketOwnershipControls", "logs"],
      ["BucketPublicAccessBlock", "logs"],
      ["BucketServerSideEncryptionConfiguration", "logs"],
      ["BucketLifecycleConfiguration", "logs"],
      ["BucketPolicy", "logs"],
    ]);
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(false);
    expect(mocks.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).toEqual({
      objectOwnership: "BucketOwnerEnforced",
    });
    expect(mocks.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules,
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(mocks.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules).toEqual([
      { id: "expire", status: "Enabled", filter: {}, expiration: { days: 7 } },
    ]);
    const policy = JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "Extra",
        Effect: "Allow",
        Principal: { Service: "x.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::logs-a1b2c3/*",
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["arn:aws:s3:::logs-a1b2c3", "arn:aws:s3:::logs-a1b2c3/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      // TLS 1.2 or newer only (review F13).
      {
        Sid: "DenyOutdatedTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["arn:aws:s3:::logs-a1b2c3", "arn:aws:s3:::logs-a1b2c3/*"],
        Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
      },
    ]);
    expect(mocks.ofType("aws:s3/bucketLogging:BucketLogging")).toEqual([]);
    expect(mocks.ofType("aws:s3/bucketVersioning:BucketVersioning")).toEqual([]);
  });

  it("versioning and bucket keys on request; parts keep the names given", async () => {
    const { options } = await runProgram(() => {
      new Holder("h", (parent) =>
        privateBucket(
          "b-bucket",
          {
            versioning: true,
            bucketKeyEnabled: true,
            forceDestroy: true,
            lifecycleRules: [],
            names: { versioning: "b-versioning", policy: "b-tls-only" },
          },
          { parent },
        ),
      );
      return {};
    });
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(true);
    expect(mocks.one("aws:s3/bucketVersioning:BucketVersioning")).toMatchObject({
      name: "b-versioning",
      inputs: { versioningConfiguration: { status: "Enabled" } },
    });
    expect(
      mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
    ).toMatchObject({
      name: "b-bucket",
      inputs: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
    });
    expect(mocks.one("aws:s3/bucketPolicy:BucketPolicy").name).toBe("b-tls-only");
    expect(
      JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy).Statement.map((s: any) => s.Sid),
    ).toEqual(["DenyInsecureTransport", "DenyOutdatedTls"]);
    // Lifecycle rules on a versioned bucket wait for the versioning; the policy for the public-access block.
    const dependsOn = (key: string) => [options.get(key)?.dependsOn ?? []].flat().map((r: any) => r.__name);
    expect(dependsOn("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration::b-bucket")).toEqual([
      "b-versioning",
    ]);
    expect(dependsOn("aws:s3/bucketPolicy:BucketPolicy::b-tls-only")).toEqual(["b-bucket"]);
  });

  it("SSE-KMS under a given key (Security Hub S3.17); server access logs to another bucket (S3.9)", async () => {
    await runProgram(() => {
      new Holder("h", (parent) =>
        privateBucket(
          "rel",
          {
            lifecycleRules: [],
            kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
            bucketKeyEnabled: true,
            accessLogs: { bucket: "sink", prefix: "s3/rel/" },
          },
          { parent },
        ),
      );
      return {};
    });
    expect(
      mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules,
    ).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/k",
        },
        bucketKeyEnabled: true,
      },
    ]);
    expect(mocks.one("aws:s3/bucketLogging:BucketLogging")).toMatchObject({
      name: "rel",
      inputs: { bucket: "rel-id", targetBucket: "sink", targetPrefix: "s3/rel/" },
    });
  });

  it("the log delivery statement a sink bucket takes: S3's logging service, for this account's buckets only", () => {
    expect(
      serverAccessLogDelivery("arn:aws:s3:::sink", { partition: "aws", accountId: "123456789012", prefix: "s3/" }),
    ).toEqual({
      Sid: "S3ServerAccessLogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: "arn:aws:s3:::sink/s3/*",
      Condition: {
        StringEquals: { "aws:SourceAccount": "123456789012" },
        ArnLike: { "aws:SourceArn": "arn:aws:s3:::*" },
      },
    });
  });
});
