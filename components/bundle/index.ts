// Service bundle: the built dist/app/server.js in a private, versioned bucket encrypted with a key of its own
// (SSE-KMS: Security Hub S3.17) under a content-hashed key. Same content, same key: nothing changes. New content,
// new key: a new launch template version and a rolling replacement. Beside it, the Node binary the hosts run
// (contract/runtime.ts), under its pinned sha256, so a boot needs no third-party repository. On request, a bucket
// takes the S3 server access logs of this bucket and of the stack's other buckets (S3.9).
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { sha256File } from "../../contract/digest";
import { RuntimeArch, nodeRuntime, runtimePackage } from "../../contract/runtime";
import { privateBucket, serverAccessLogDelivery } from "../_shared/privateBucket";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { accessLogLifecycle, defaultBundlePath, releaseKey, releaseKeyPolicy, runtimeKey, runtimePaths } from "./rules";
export { defaultBundlePath, releaseKey, releaseKeyPolicy, runtimeKey, runtimePaths };

export interface BundleArgs {
  /** Local path of the bundle, relative to the project root (Pulumi.yaml's folder, not the working directory);
   *  read at program time, so a plain string. One self-contained file (an esbuild bundle, nothing beside it): a host
   *  installs it as `<release>/server.js` and the unit runs `node current/server.js`. Default dist/app/server.js. */
  bundlePath?: string;
  /** CPU architecture of the hosts' image, "x64" or "arm64" (Graviton): the Node runtime shipped beside the bundle
   *  is built for it. A plain string checked at construction, as a component schema takes no union. Default "x64". */
  architecture?: string;
  /** Local path of that runtime, relative to the project root; refused unless it has the sha256 pinned in
   *  contract/runtime.ts. Plain. Default dist/runtime/node-v<version>-linux-<architecture> (`npm run build` writes
   *  it), else node_modules/node-linux-<architecture>/bin/node (`npm ci` installs x64 on linux/x64). */
  runtimePath?: string;
  /** Keep noncurrent object versions this many days (rollback window). Default 30. */
  noncurrentVersionDays?: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the bucket (dev); keep false in prod. Default false. */
  forceDestroy?: pulumi.Input<boolean>;
  /** Instance roles that fetch releases and the runtime (the Fleet's role, serviceHostRole's): the release key lets
   *  them decrypt, through S3 only; the hosts' roles hold no KMS grant of their own for it, so a role not listed
   *  cannot read them. Default none. */
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

const runtimeHashes = new Map<string, string>();

/**
 * The pinned runtime of `arch` at `runtimePath` (default: the first of runtimePaths that exists), or one clear error:
 * which file, which sha256 was expected and found, and how to get the right one. Hashed once per file and version.
 */
export function checkedRuntime(arch: string, runtimePath?: string): { file: string; sha256: string } {
  if (!Object.hasOwn(nodeRuntime.sha256, arch))
    throw new pulumi.RunError(
      `bundle: architecture "${arch}" must be one of ${Object.keys(nodeRuntime.sha256).join(", ")}`,
    );
  const expected = nodeRuntime.sha256[arch as RuntimeArch];
  const candidates = runtimePath ? [runtimePath] : runtimePaths(arch as RuntimeArch);
  const file = candidates.map(fromProjectRoot).find((f) => fs.existsSync(f));
  const build = `npm run build -- --arch ${arch}`;
  if (!file)
    throw new pulumi.RunError(
      `bundle: the Node ${nodeRuntime.version} runtime for ${arch} is missing (${candidates.join(", ")}): run ${build}`,
    );
  const stat = fs.statSync(file);
  const id = `${file}:${stat.size}:${stat.mtimeMs}`;
  const found = runtimeHashes.get(id) ?? sha256File(file);
  runtimeHashes.set(id, found);
  if (found !== expected)
    throw new pulumi.RunError(
      `bundle: ${file} is not ${runtimePackage(arch as RuntimeArch)}@${nodeRuntime.version}'s bin/node: sha256 ` +
        `${found}, contract/runtime.ts pins ${expected}. Run ${build} (it fetches and checks the pinned one).`,
    );
  return { file, sha256: found };
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
  /** s3://bucket/runtimes/<sha256>: the Node binary the hosts run, for the hosts' architecture. */
  public readonly runtimeUrl: pulumi.Output<string>;
  /** sha256 of that binary, hex, as pinned in contract/runtime.ts: hosts check the download against it. */
  public readonly runtimeSha256: pulumi.Output<string>;
  /** Node version of that binary, e.g. 26.12.1. */
  public readonly runtimeVersion: pulumi.Output<string>;

  constructor(name: string, args: BundleArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Bundle"), name, {}, withFormerType("node-service:bundle:Bundle", opts));
    const bundlePath = fromProjectRoot(args.bundlePath ?? defaultBundlePath);
    const sha256 = hashBundle(bundlePath);
    const key = releaseKey(sha256);
    const runtime = checkedRuntime(args.architecture ?? "x64", args.runtimePath);

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
    // The runtime changes only with contract/runtime.ts: a new version is a new key, replaced like a release.
    const runtimeObject = new aws.s3.BucketObjectv2(
      `${name}-runtime`,
      {
        bucket: bucket.id,
        key: runtimeKey(runtime.sha256),
        source: new pulumi.asset.FileAsset(runtime.file),
        contentType: "application/octet-stream",
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
    this.runtimeUrl = pulumi.interpolate`s3://${bucket.bucket}/${runtimeObject.key}`;
    this.runtimeSha256 = pulumi.output(runtime.sha256);
    this.runtimeVersion = pulumi.output(nodeRuntime.version);
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      key: this.key,
      sha256: this.sha256,
      url: this.url,
      keyArn: this.keyArn,
      accessLogBucketName: this.accessLogBucketName,
      runtimeUrl: this.runtimeUrl,
      runtimeSha256: this.runtimeSha256,
      runtimeVersion: this.runtimeVersion,
    });
  }
}
