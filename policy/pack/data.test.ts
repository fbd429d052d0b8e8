// The bucket, key and IAM policies, each with a resource that passes and one that violates. Bucket settings are
// found through the engine's property dependencies (a reference in the program) or by the bucket's name.
import { describe, expect, it } from "vitest";
import { ResourceSpec, runPolicy, urnOf } from "../test/args";
import {
  kmsKeyPolicies,
  kmsRotation,
  noWildcardSecretReads,
  s3Encrypted,
  s3Private,
  s3TlsOnly,
  s3Versioned,
} from "./data";

const bucket = (type = "aws:s3/bucket:Bucket", props: object = {}): ResourceSpec => ({
  type,
  name: "releases",
  props: { bucket: "releases-a1b2", ...props },
});
const b1 = bucket();
/** A setting naming the bucket by reference (property dependency). */
const setting = (type: string, props: object, of: ResourceSpec = b1): ResourceSpec => ({
  type,
  name: `${type.split(":").pop()}-of-${of.name}`,
  props: { bucket: "releases-id", ...props },
  propertyDependencies: { bucket: [urnOf(of)] },
});
const messages = async (p: Parameters<typeof runPolicy>[0], specs: ResourceSpec[]) =>
  (await runPolicy(p, specs)).violations.map((v) => v.message);
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

describe("s3-bucket-private", () => {
  const block = {
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  };
  it("passes a bucket behind a full public access block, with a service scoped by condition", async () => {
    const policy = doc({
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceVpce": "vpce-1" } },
    });
    const specs = [
      b1,
      setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", block),
      setting("aws:s3/bucketPolicy:BucketPolicy", { policy }),
    ];
    expect(await messages(s3Private, specs)).toEqual([]);
  });
  it("fails a partial block, a public-read ACL (V2 token) and a statement open to everyone", async () => {
    const specs = [
      b1,
      setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { ...block, restrictPublicBuckets: false }),
      // named by the bucket's name, as a stack that did not create the reference would
      { type: "aws:s3/bucketAclV2:BucketAclV2", name: "acl", props: { bucket: "releases-a1b2", acl: "public-read" } },
      setting("aws:s3/bucketPolicy:BucketPolicy", {
        policy: doc({ Sid: "Open", Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:GetObject" }),
      }),
    ];
    expect(await messages(s3Private, specs)).toEqual([
      expect.stringMatching(/^no public access block with/),
      "ACL public-read makes objects public",
      "statement Open allows everyone",
    ]);
  });
});

describe("s3-bucket-tls-only", () => {
  it("passes a policy denying insecure transport, and fails a bucket without one", async () => {
    const deny = doc({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(await messages(s3TlsOnly, [b1, setting("aws:s3/bucketPolicy:BucketPolicy", { policy: deny })])).toEqual([]);
    expect(await messages(s3TlsOnly, [b1])).toEqual(["no bucket policy statement denies aws:SecureTransport false"]);
  });
});

describe("s3-bucket-encrypted", () => {
  const sse = (alg: string) => ({ rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: alg } }] });
  it("passes SSE-KMS through the V2 resource and an inline configuration on a v1 bucket", async () => {
    const inline = bucket("aws:s3/bucketV2:BucketV2", {
      bucket: "other",
      serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } },
    });
    const specs = [
      b1,
      setting(
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        sse("aws:kms"),
      ),
      { ...inline, name: "other" },
    ];
    expect(await messages(s3Encrypted, specs)).toEqual([]);
  });
  it("fails a bucket with no default encryption", async () => {
    expect(await messages(s3Encrypted, [b1])).toEqual([
      "no default encryption: add a server-side encryption configuration",
    ]);
  });
});

describe("s3-bucket-versioned", () => {
  it("passes versioning Enabled (v1 resource) and fails Suspended (V2 resource)", async () => {
    const on = setting("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Enabled" } });
    expect(await messages(s3Versioned, [b1, on])).toEqual([]);
    const off = setting("aws:s3/bucketVersioningV2:BucketVersioningV2", {
      versioningConfiguration: { status: "Suspended" },
    });
    expect(await messages(s3Versioned, [b1, off])).toEqual(["versioning is not enabled"]);
  });
});

describe("kms-key-rotation", () => {
  const key = (props: object): ResourceSpec => ({ type: "aws:kms/key:Key", name: "k", props });
  it("passes a rotating key and an asymmetric one (AWS cannot rotate it), and fails a symmetric key that does not rotate", async () => {
    expect(
      await messages(kmsRotation, [key({ enableKeyRotation: true }), key({ customerMasterKeySpec: "RSA_2048" })]),
    ).toEqual([]);
    expect(await messages(kmsRotation, [key({})])).toEqual(["enableKeyRotation is off"]);
  });
});

describe("kms-key-policies", () => {
  const adminOnly = doc({
    Sid: "Admin",
    Effect: "Allow",
    Principal: { AWS: "arn:aws:iam::1:root" },
    Action: "kms:*",
    Resource: "*",
  });
  it("passes a key with its policy in an aws.kms.KeyPolicy, and fails a key on the default policy", async () => {
    const key: ResourceSpec = { type: "aws:kms/key:Key", name: "k", props: { keyId: "k-1", enableKeyRotation: true } };
    const policy: ResourceSpec = {
      type: "aws:kms/keyPolicy:KeyPolicy",
      name: "kp",
      props: { keyId: "k-1", policy: adminOnly },
    };
    expect(await messages(kmsKeyPolicies, [key, policy])).toEqual([]);
    const bad = await runPolicy(kmsKeyPolicies, [key]);
    expect(bad.violations).toEqual([{ message: expect.stringMatching(/^has no key policy/), urn: urnOf(key) }]);
  });
});

describe("no-wildcard-secret-reads", () => {
  const rolePolicy = (policy: string): ResourceSpec => ({
    type: "aws:iam/rolePolicy:RolePolicy",
    name: "rp",
    props: { role: "r", policy },
  });
  it("passes parameter reads by name, and fails kms:Decrypt on every key", async () => {
    const named = doc({
      Effect: "Allow",
      Action: "ssm:GetParameters",
      Resource: "arn:aws:ssm:us-east-1:1:parameter/svc/prod/*",
    });
    expect(await messages(noWildcardSecretReads, [rolePolicy(named)])).toEqual([]);
    const wide = doc({ Sid: "Wide", Effect: "Allow", Action: "kms:*", Resource: "*" });
    expect(await messages(noWildcardSecretReads, [rolePolicy(wide)])).toEqual([
      'inline policy statement Wide allows kms:Decrypt on "*": name the parameters, keys and objects instead',
    ]);
  });
});
