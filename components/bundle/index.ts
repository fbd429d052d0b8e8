// Service bundle: the built dist/app/server.js in a private, versioned bucket encrypted with a key of its own
// (SSE-KMS: Security Hub S3.17) under a content-hashed key. Same content, same key: nothing changes. New content,
// new key: a new launch template version and a rolling replacement. On request, a bucket takes the S3 server
// access logs of this bucket and of the stack's other buckets (S3.9).
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { sha256File } from "../../contract/digest";
import { privateBucket, serverAccessLogDelivery } from "../_shared/privateBucket";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { accessLogLifecycle, defaultBundlePath, releaseKey, releaseKeyPolicy } from "./rules";
export { defaultBundlePath, releaseKey, releaseKeyPolicy };

export interface BundleArgs {
  /** Local path of the bundle, relative to the project root (Pulumi.yaml's folder, not the working directory);
   *  read at program time, so a plain string. Default dist/app/server.js. */
  bundlePath?: string;
  /** Keep noncurrent object versions this many days (rollback window). Default 30. */
  noncurrentVersionDays?: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the bucket (dev); keep false in prod. Default false. */
  forceDestroy?: pulumi.Input<boolean>;
  /** Instance roles that fetch releases: the release key lets them decrypt, through S3 only. Default none. */
  readerRoleArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * A bucket for S3 server access logs (Security Hub S3.9): the bundle bucket logs into it, and so may the stack's
   * other buckets (accessLogBucketName). It does not log itself (AWS advises against a bucket logging into itself).
   * Plain: it adds resources. Default false.
   */
  accessLogs?: boolean;
  /** Days the server access logs are kept. Default 365. */
  accessLogRetentionDays?: number;
  /** Tags of the bucket and the release object. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * `p` from the project root (the folder of Pulumi.yaml, the runtime's --root-directory; the consumer's project
 * when this package is used as a library), never from the working directory: the runtime runs the program in
 * `main`'s folder (infra/). Without a root (setMocks leaves a placeholder), from the working directory.
 */
export function fromProjectRoot(p: string): string {
  const root = pulumi.runtime.getRootDirectory();
  return path.resolve(path.isAbsolute(root) ? root : process.cwd(), p);
}

/** sha256 of the bundle, or one clear error telling how to produce it. */
export function hashBundle(bundlePath: string): string {
  try {
    return sha256File(bundlePath);
  } catch {
    throw new pulumi.RunError(`bundle: ${bundlePath} not found: run npm run build first`);
  }
}

export class Bundle extends pulumi.ComponentResource {
  /** Name of the private, versioned bucket holding the releases. */
  public readonly bucketName: pulumi.Output<string>;
  /** ARN of that bucket (the instance role may read its releases/ prefix only). */
  public readonly bucketArn: pulumi.Output<string>;
  /** Object key of this release: releases/<sha256>.js. */
  public readonly key: pulumi.Output<string>;
  /** sha256 of the bundle, hex: hosts check the download against it. */
  public readonly sha256: pulumi.Output<string>;
  /** s3://bucket/releases/<sha256>.js, what the host fetches at boot. */
  public readonly url: pulumi.Output<string>;
  /** ARN of the key the releases are encrypted with. */
  public readonly keyArn: pulumi.Output<string>;
  /** Name of the bucket taking S3 server access logs; "" without accessLogs. */
  public readonly accessLogBucketName: pulumi.Output<string>;

  constructor(name: string, args: BundleArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Bundle"), name, {}, withFormerType("node-service:bundle:Bundle", opts));
    const bundlePath = fromProjectRoot(args.bundlePath ?? defaultBundlePath);
    const sha256 = hashBundle(bundlePath);
    const key = releaseKey(sha256);

    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const releaseKms = new aws.kms.Key(
      `${name}-releases`,
      {
        description: `Encrypts the service releases of ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([partition, accountId, region, args.readerRoleArns ?? []])
          .apply(([p, acct, r, readerRoleArns]) =>
            releaseKeyPolicy({ partition: p, accountId: acct, region: r, readerRoleArns }),
          ),
        tags: args.tags,
      },
      { parent: this },
    );
    const logs = args.accessLogs
      ? privateBucket(
          `${name}-access-logs`,
          {
            versioning: true,
            lifecycleRules: accessLogLifecycle(args.accessLogRetentionDays ?? 365),
            policyStatements: (arn) =>
              pulumi
                .all([partition, accountId])
                .apply(([p, acct]) => [serverAccessLogDelivery(arn, { partition: p, accountId: acct, prefix: "" })]),
            forceDestroy: args.forceDestroy ?? false,
            tags: args.tags,
          },
          { parent: this },
        ).bucket
      : undefined;
    // Names from before the shared builder: a stack that holds these parts keeps them.
    const store = privateBucket(
      `${name}-bucket`,
      {
        versioning: true,
        bucketKeyEnabled: true,
        kmsKeyArn: releaseKms.arn,
        accessLogs: logs && { bucket: logs.bucket, prefix: `s3-access/${name}-bucket/` },
        lifecycleRules: [
          {
            id: "expire-noncurrent",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
        forceDestroy: args.forceDestroy ?? false,
        tags: args.tags,
        names: {
          ownership: `${name}-ownership`,
          publicAccessBlock: `${name}-public-access`,
          versioning: `${name}-versioning`,
          encryption: `${name}-sse`,
          lifecycle: `${name}-lifecycle`,
          policy: `${name}-tls-only`,
        },
      },
      { parent: this },
    );
    const bucket = store.bucket;
    const sse = store.encryption;
    const versioning = store.versioning!;
    // A new bundle is a new key, so the object is replaced each release: it must not inherit the component's
    // protect (that would refuse the second release), and the previous object must stay (retainOnDelete: the
    // engine skips the delete) for an instance-refresh rollback or a launch from an older template version.
    // Old releases are pruned outside Pulumi (scripts/release-prune.ts).
    const object = new aws.s3.BucketObjectv2(
      `${name}-release`,
      {
        bucket: bucket.id,
        key,
        source: new pulumi.asset.FileAsset(bundlePath),
        contentType: "text/javascript",
        serverSideEncryption: "aws:kms",
        kmsKeyId: releaseKms.arn,
        bucketKeyEnabled: true,
        tags: args.tags,
      },
      { parent: this, dependsOn: [sse, versioning], protect: false, retainOnDelete: true },
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.key = object.key;
    this.sha256 = pulumi.output(sha256);
    this.url = pulumi.interpolate`s3://${bucket.bucket}/${object.key}`;
    this.keyArn = releaseKms.arn;
    this.accessLogBucketName = logs?.bucket ?? pulumi.output("");
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      key: this.key,
      sha256: this.sha256,
      url: this.url,
      keyArn: this.keyArn,
      accessLogBucketName: this.accessLogBucketName,
    });
  }
}
