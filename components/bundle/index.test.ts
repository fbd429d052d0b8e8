import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, valueOf } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { sha256File } from "../../contract/digest";
import { nodeRuntime } from "../../contract/runtime";
import { serviceNode } from "../../test/support/runtime";
import { Bundle, runtimePaths } from "./index";

const mocks = useMocks();
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-test-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("Bundle", () => {
  it("uploads the file under its sha256 to a private, encrypted, versioned, TLS-only bucket", async () => {
    const file = path.join(dir, "server.js");
    fs.writeFileSync(file, "console.log('hi')\n");
    const sha = createHash("sha256").update("console.log('hi')\n").digest("hex");
    const b = new Bundle("svc", { bundlePath: file });
    expect(await valueOf(b.url)).toBe(`s3://svc-bucket-a1b2c3/releases/${sha}.js`);
    await settle();
    const object = mocks.ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((r) => r.name === "svc-release")!;
    // SSE-KMS under the bundle's own key (Security Hub S3.17).
    expect(object.inputs).toMatchObject({
      key: `releases/${sha}.js`,
      serverSideEncryption: "aws:kms",
      kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/svc-releases-0000",
      bucketKeyEnabled: true,
    });
    expect(mocks.one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).toEqual({
      status: "Enabled",
    });
    expect(
      mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs
        .rules[0].applyServerSideEncryptionByDefault,
    ).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/svc-releases-0000" });
    expect(mocks.ofType("aws:s3/bucketLogging:BucketLogging")).toEqual([]);
    expect(mocks.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(mocks.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).toEqual({
      objectOwnership: "BucketOwnerEnforced",
    });
    const policy = JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
      }),
    ]);
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(false);
  });

  it("the release key: the account administers it, the given roles decrypt through S3 only; server access logs to a sink of its own", async () => {
    const file = path.join(dir, "server.js");
    fs.writeFileSync(file, "console.log('hi')\n");
    new Bundle("rel", { bundlePath: file, readerRoleArns: ["arn:aws:iam::123456789012:role/hosts"], accessLogs: true });
    await settle();
    const statements = JSON.parse(mocks.one("aws:kms/key:Key").inputs.policy).Statement;
    expect(statements).toEqual([
      {
        Sid: "AccountAdministersTheKey",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:root" },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "HostsDecryptReleasesViaS3",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::123456789012:role/hosts"] },
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
      },
    ]);
    expect(mocks.one("aws:s3/bucketLogging:BucketLogging").inputs).toMatchObject({
      bucket: "rel-bucket-id",
      targetBucket: "rel-access-logs-a1b2c3",
      targetPrefix: "s3-access/rel-bucket/",
    });
    const sink = mocks.resources.filter((r) => r.name === "rel-access-logs");
    expect(sink.map((r) => r.type.split(":").pop()).sort()).toEqual([
      "Bucket",
      "BucketLifecycleConfiguration",
      "BucketOwnershipControls",
      "BucketPolicy",
      "BucketPublicAccessBlock",
      "BucketServerSideEncryptionConfiguration",
      "BucketVersioning",
    ]);
    const sinkPolicy = JSON.parse(sink.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!.inputs.policy);
    expect(sinkPolicy.Statement[0]).toMatchObject({
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    // The sink logs nowhere: S3 advises against a bucket logging into itself.
    expect(mocks.ofType("aws:s3/bucketLogging:BucketLogging")).toHaveLength(1);
  });

  it("ships the pinned Node beside the bundle: same bucket and key, under its sha256, kept like a release", async () => {
    const file = path.join(dir, "server.js");
    fs.writeFileSync(file, "console.log('hi')\n");
    const b = new Bundle("svc", { bundlePath: file });
    const x64 = nodeRuntime.sha256.x64;
    expect(await valueOf(b.runtimeUrl)).toBe(`s3://svc-bucket-a1b2c3/runtimes/${x64}`);
    expect(await valueOf(b.runtimeSha256)).toBe(x64);
    expect(await valueOf(b.runtimeVersion)).toBe(nodeRuntime.version);
    await settle();
    const runtime = mocks.ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((r) => r.name === "svc-runtime")!;
    expect(runtime.inputs).toMatchObject({
      bucket: "svc-bucket-id",
      key: `runtimes/${x64}`,
      serverSideEncryption: "aws:kms",
      kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/svc-releases-0000",
      bucketKeyEnabled: true,
    });
    // By default the build's dist/runtime file, else the one `npm ci` installed: the same pinned bytes.
    const source = await (runtime.inputs.source as { path: Promise<string> }).path;
    expect(runtimePaths("x64").map((p) => path.resolve(p))).toContain(source);
    expect(sha256File(source)).toBe(x64);
  });

  it("refuses a runtime that is not the pin, and an architecture it has no pin for, saying how to fix it", () => {
    const file = path.join(dir, "server.js");
    fs.writeFileSync(file, "console.log('hi')\n");
    const fake = path.join(dir, "node");
    fs.writeFileSync(fake, "not node\n");
    expect(() => new Bundle("fake", { bundlePath: file, runtimePath: fake })).toThrow(
      new RegExp(
        `sha256 [0-9a-f]{64}, contract/runtime\\.ts pins ${nodeRuntime.sha256.x64}\\. Run npm run build -- --arch x64`,
      ),
    );
    // the x64 binary is not the arm64 one: a Graviton fleet never gets it
    expect(
      () => new Bundle("graviton", { bundlePath: file, architecture: "arm64", runtimePath: serviceNode() }),
    ).toThrow(`contract/runtime.ts pins ${nodeRuntime.sha256.arm64}`);
    expect(() => new Bundle("gone", { bundlePath: file, architecture: "arm64", runtimePath: "nope/node" })).toThrow(
      /runtime for arm64 is missing \(nope\/node\): run npm run build -- --arch arm64/,
    );
    expect(() => new Bundle("ia32", { bundlePath: file, architecture: "ia32" })).toThrow(
      'architecture "ia32" must be one of x64, arm64',
    );
  });

  it("tells to build when the bundle is missing", () => {
    expect(() => new Bundle("gone", { bundlePath: path.join(dir, "nope.js") })).toThrow(
      /nope\.js not found: run npm run build first/,
    );
  });
});
