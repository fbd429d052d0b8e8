import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MockRecorder, settle, setupMocks, valueOf } from "../../test/support/pulumi-mocks";
import { Bundle } from "./index";

let mocks: MockRecorder;
let dir: string;
beforeAll(async () => {
  mocks = await setupMocks();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-test-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  mocks.clear();
});

describe("Bundle", () => {
  it("uploads the file under its sha256 to a private, encrypted, versioned, TLS-only bucket", async () => {
    const file = path.join(dir, "server.js");
    fs.writeFileSync(file, "console.log('hi')\n");
    const sha = createHash("sha256").update("console.log('hi')\n").digest("hex");
    const b = new Bundle("svc", { bundlePath: file });
    expect(await valueOf(b.url)).toBe(`s3://svc-bucket-a1b2c3/releases/${sha}.js`);
    await settle();
    const object = mocks.one("aws:s3/bucketObjectv2:BucketObjectv2");
    expect(object.inputs).toMatchObject({ key: `releases/${sha}.js`, serverSideEncryption: "AES256" });
    expect(mocks.one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
    expect(mocks.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(mocks.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    const policy = JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      expect.objectContaining({ Effect: "Deny", Principal: "*", Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } } }),
    ]);
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(false);
  });

  it("tells to build when the bundle is missing", () => {
    expect(() => new Bundle("gone", { bundlePath: path.join(dir, "nope.js") })).toThrow(/nope\.js not found: run npm run build first/);
  });
});
