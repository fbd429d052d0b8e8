// Service bundle: the built dist/app/server.js in a private, encrypted, versioned bucket under a
// content-hashed key. Same content, same key: nothing changes. New content, new key: a new launch
// template version and a rolling replacement.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { defaultBundlePath, releaseKey } from "./rules";
export { defaultBundlePath, releaseKey };

export interface BundleArgs {
  /** Local path of the bundle, relative to the project root (Pulumi.yaml's folder, not the working directory);
   *  read at program time, so a plain string. Default dist/app/server.js. */
  bundlePath?: string;
  /** Keep noncurrent object versions this many days (rollback window). Default 30. */
  noncurrentVersionDays?: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the bucket (dev); keep false in prod. */
  forceDestroy?: pulumi.Input<boolean>;
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
  let content: Buffer;
  try {
    content = fs.readFileSync(bundlePath);
  } catch {
    throw new pulumi.RunError(`bundle: ${bundlePath} not found: run npm run build first`);
  }
  return createHash("sha256").update(content).digest("hex");
}

export class Bundle extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly key: pulumi.Output<string>;
  readonly sha256: pulumi.Output<string>;
  /** s3://bucket/releases/<sha256>.js, what the host fetches at boot. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: BundleArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("node-service:bundle:Bundle", name, {}, opts);
    const bundlePath = fromProjectRoot(args.bundlePath ?? defaultBundlePath);
    const sha256 = hashBundle(bundlePath);
    const key = releaseKey(sha256);

    const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy ?? false, tags: args.tags }, { parent: this });
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    const block = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
      bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, { parent: this });
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent: this });
    const sse = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    }, { parent: this });
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucket.id,
      rules: [{ id: "expire-noncurrent", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
    }, { parent: this, dependsOn: [versioning] });
    new aws.s3.BucketPolicy(`${name}-tls-only`, {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{
          Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*",
          Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
      }),
    }, { parent: this, dependsOn: [block] });
    // A new bundle is a new key, so the object is replaced each release: it must not inherit the component's
    // protect (that would refuse the second release), and the previous object must stay (retainOnDelete: the
    // engine skips the delete) for an instance-refresh rollback or a launch from an older template version.
    // Old releases are pruned outside Pulumi (scripts/release-prune.ts).
    const object = new aws.s3.BucketObjectv2(`${name}-release`, {
      bucket: bucket.id, key, source: new pulumi.asset.FileAsset(bundlePath),
      contentType: "text/javascript", serverSideEncryption: "AES256", tags: args.tags,
    }, { parent: this, dependsOn: [sse, versioning], protect: false, retainOnDelete: true });

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.key = object.key;
    this.sha256 = pulumi.output(sha256);
    this.url = pulumi.interpolate`s3://${bucket.bucket}/${object.key}`;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, key: this.key, sha256: this.sha256, url: this.url });
  }
}
