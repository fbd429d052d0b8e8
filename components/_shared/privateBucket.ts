// A private S3 bucket, hardened the same way wherever one is needed: the bucket owner owns every object
// (no ACLs), all public access is blocked, objects are encrypted at rest by default (SSE-S3, or SSE-KMS under a
// given key: Security Hub S3.17), a lifecycle keeps it from growing forever, its policy refuses any request made
// without TLS or with TLS older than 1.2 (security review F13; the s3:TlsVersion condition:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html#example-object-tls-version),
// and on request its server access logs go to another bucket (S3.9).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The resources next to the bucket, each of which may keep a name of its own. */
export type PrivateBucketPart =
  "ownership" | "publicAccessBlock" | "versioning" | "encryption" | "lifecycle" | "policy" | "logging";

export interface PrivateBucketArgs {
  /** Lifecycle rules: expiration, noncurrent versions, incomplete uploads. */
  lifecycleRules: pulumi.Input<pulumi.Input<aws.types.input.s3.BucketLifecycleConfigurationRule>[]>;
  /** Policy statements before the TLS-only deny, built from the bucket's ARN (e.g. log delivery). Default none. */
  policyStatements?: (bucketArn: string) => pulumi.Input<object[]>;
  /** Keep every object version (a rollback window). Plain: it adds a resource. Default false. */
  versioning?: boolean;
  /** Set S3 Bucket Keys on the default encryption rule. Default: not set. */
  bucketKeyEnabled?: boolean;
  /** Encrypt new objects with SSE-KMS under this key instead of SSE-S3. Default none: SSE-S3 (AES256). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Send the bucket's server access logs to this bucket under this prefix. Plain presence: it adds a resource. Default none. */
  accessLogs?: { bucket: pulumi.Input<string>; prefix: pulumi.Input<string> };
  /** Let `pulumi destroy` empty the bucket. Default false. */
  forceDestroy?: pulumi.Input<boolean>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Resource name of each part. Default: the bucket's own name (the types differ, so one name is enough);
   * give them where a stack already holds the parts under other names, so their URNs stay.
   */
  names?: Partial<Record<PrivateBucketPart, string>>;
}

export interface PrivateBucket {
  bucket: aws.s3.Bucket;
  publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  /** Present when `versioning` was asked for. */
  versioning: aws.s3.BucketVersioning | undefined;
  encryption: aws.s3.BucketServerSideEncryptionConfiguration;
  lifecycle: aws.s3.BucketLifecycleConfiguration;
  policy: aws.s3.BucketPolicy;
}

/** The statement refusing every request to the bucket or its objects made over plain HTTP. */
export function denyInsecureTransport(bucketArn: string): object {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** The statement refusing every request made with TLS older than 1.2. */
export function denyOutdatedTls(bucketArn: string): object {
  return {
    Sid: "DenyOutdatedTls",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
  };
}

/**
 * The statement letting S3 deliver server access logs into a bucket, only from this account's buckets
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general).
 */
export function serverAccessLogDelivery(
  sinkArn: string,
  a: { partition: string; accountId: string; prefix: string },
): object {
  return {
    Sid: "S3ServerAccessLogDelivery",
    Effect: "Allow",
    Principal: { Service: "logging.s3.amazonaws.com" },
    Action: "s3:PutObject",
    Resource: `${sinkArn}/${a.prefix}*`,
    Condition: {
      StringEquals: { "aws:SourceAccount": a.accountId },
      ArnLike: { "aws:SourceArn": `arn:${a.partition}:s3:::*` },
    },
  };
}

/**
 * Creates the bucket and its hardening under `opts.parent`, all of it protected when `opts.protect` is true
 * (unset or false: as the parent is). `name` is the bucket's resource name and the default name of every other part.
 */
export function privateBucket(
  name: string,
  args: PrivateBucketArgs,
  opts: { parent: pulumi.Resource; protect?: boolean },
): PrivateBucket {
  const named = (part: PrivateBucketPart) => args.names?.[part] ?? name;
  // Only `true` is passed on: an explicit false would override a protected parent's.
  const parent = opts.parent;
  const protect = opts.protect === true ? { protect: true } : {};
  const bucket = new aws.s3.Bucket(
    name,
    { forceDestroy: args.forceDestroy ?? false, tags: args.tags },
    { parent, ...protect },
  );
  new aws.s3.BucketOwnershipControls(
    named("ownership"),
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent, ...protect },
  );
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    named("publicAccessBlock"),
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { parent, ...protect },
  );
  const versioning = args.versioning
    ? new aws.s3.BucketVersioning(
        named("versioning"),
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        { parent, ...protect },
      )
    : undefined;
  // SSE-S3 unless a key is given: the one kind every AWS service writing into a bucket (ALB access logs among them) supports.
  const byDefault = {
    applyServerSideEncryptionByDefault:
      args.kmsKeyArn === undefined
        ? { sseAlgorithm: "AES256" }
        : { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
  };
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    named("encryption"),
    {
      bucket: bucket.id,
      rules: [
        args.bucketKeyEnabled === undefined ? byDefault : { ...byDefault, bucketKeyEnabled: args.bucketKeyEnabled },
      ],
    },
    { parent, ...protect },
  );
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(
    named("lifecycle"),
    { bucket: bucket.id, rules: args.lifecycleRules },
    { parent, ...protect, dependsOn: versioning ? [versioning] : undefined },
  );
  const policy = new aws.s3.BucketPolicy(
    named("policy"),
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        pulumi.output(args.policyStatements?.(arn) ?? []).apply((statements) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [...statements, denyInsecureTransport(arn), denyOutdatedTls(arn)],
          }),
        ),
      ),
    },
    { parent, ...protect, dependsOn: [publicAccessBlock] },
  );
  if (args.accessLogs !== undefined)
    new aws.s3.BucketLogging(
      named("logging"),
      { bucket: bucket.id, targetBucket: args.accessLogs.bucket, targetPrefix: args.accessLogs.prefix },
      { parent, ...protect },
    );
  return { bucket, publicAccessBlock, versioning, encryption, lifecycle, policy };
}
