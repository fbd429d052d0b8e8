// A private S3 bucket, hardened the same way wherever one is needed: the bucket owner owns every object
// (no ACLs), all public access is blocked, objects are encrypted at rest by default, a lifecycle keeps
// it from growing forever, and its policy refuses any request made without TLS.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The resources next to the bucket, each of which may keep a name of its own. */
export type PrivateBucketPart = "ownership" | "publicAccessBlock" | "versioning" | "encryption" | "lifecycle" | "policy";

export interface PrivateBucketArgs {
  /** Lifecycle rules: expiration, noncurrent versions, incomplete uploads. */
  lifecycleRules: pulumi.Input<pulumi.Input<aws.types.input.s3.BucketLifecycleConfigurationRule>[]>;
  /** Policy statements before the TLS-only deny, built from the bucket's ARN (e.g. log delivery). Default none. */
  policyStatements?: (bucketArn: string) => pulumi.Input<object[]>;
  /** Keep every object version (a rollback window). Plain: it adds a resource. Default false. */
  versioning?: boolean;
  /** Set S3 Bucket Keys on the default encryption rule. Default: not set. */
  bucketKeyEnabled?: boolean;
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
    Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Creates the bucket and its hardening under `opts.parent`. `name` is the bucket's resource name and the
 * default name of every other part.
 */
export function privateBucket(name: string, args: PrivateBucketArgs, opts: { parent: pulumi.Resource }): PrivateBucket {
  const named = (part: PrivateBucketPart) => args.names?.[part] ?? name;
  const { parent } = opts;
  const bucket = new aws.s3.Bucket(name, { forceDestroy: args.forceDestroy ?? false, tags: args.tags }, { parent });
  new aws.s3.BucketOwnershipControls(named("ownership"), { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent });
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(named("publicAccessBlock"), {
    bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
  }, { parent });
  const versioning = args.versioning
    ? new aws.s3.BucketVersioning(named("versioning"), { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent })
    : undefined;
  // SSE-S3: the one kind every AWS service writing into a bucket (ALB access logs among them) supports.
  const byDefault = { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } };
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(named("encryption"), {
    bucket: bucket.id,
    rules: [args.bucketKeyEnabled === undefined ? byDefault : { ...byDefault, bucketKeyEnabled: args.bucketKeyEnabled }],
  }, { parent });
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(named("lifecycle"), { bucket: bucket.id, rules: args.lifecycleRules },
    { parent, dependsOn: versioning ? [versioning] : undefined });
  const policy = new aws.s3.BucketPolicy(named("policy"), {
    bucket: bucket.id,
    policy: bucket.arn.apply((arn) => pulumi.output(args.policyStatements?.(arn) ?? []).apply((statements) =>
      JSON.stringify({ Version: "2012-10-17", Statement: [...statements, denyInsecureTransport(arn)] }))),
  }, { parent, dependsOn: [publicAccessBlock] });
  return { bucket, publicAccessBlock, versioning, encryption, lifecycle, policy };
}
