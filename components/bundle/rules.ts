// Pure rules of the Bundle component (no Pulumi import).

import { RuntimeArch, nodeRuntime, runtimePackage } from "../../contract/runtime";
import { accountAdministersTheKey } from "../_shared/keyPolicy";
export const defaultBundlePath = "dist/app/server.js";

/** The object key of a release: its content hash, so new content is a new key and a new launch template. */
export function releaseKey(sha256: string): string {
  return `releases/${sha256}.js`;
}

/** The object key of the Node runtime: its pinned sha256, so hosts of every release share one object. */
export function runtimeKey(sha256: string): string {
  return `runtimes/${sha256}`;
}

/**
 * Where the build writes the runtime of an architecture (scripts/runtime.ts), then where `npm ci` installs it (the
 * optional dependency node-linux-<arch>, on its own os and cpu only), relative to the project root. Either holds the
 * same pinned bytes; the Bundle checks them.
 */
export function runtimePaths(arch: RuntimeArch): string[] {
  return [`dist/runtime/node-v${nodeRuntime.version}-linux-${arch}`, `node_modules/${runtimePackage(arch)}/bin/node`];
}

/**
 * The release key's policy (Security Hub S3.17: the bundle bucket encrypts with SSE-KMS). The account administers
 * it (kms:*, as AWS's default: never unmanageable; the deploying identity encrypts uploads through IAM), and the
 * instance roles that fetch releases may decrypt, only through S3
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service), with no
 * IAM kms grant of their own. Releases are code, not secrets: no Deny narrows the account's own IAM grants.
 */
export function releaseKeyPolicy(a: {
  partition: string;
  accountId: string;
  region: string;
  readerRoleArns: string[];
}): string {
  const statements: object[] = [accountAdministersTheKey(a.partition, a.accountId)];
  if (a.readerRoleArns.length > 0)
    statements.push({
      Sid: "HostsDecryptReleasesViaS3",
      Effect: "Allow",
      Principal: { AWS: a.readerRoleArns },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
    });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Lifecycle of the bucket taking S3 server access logs: kept `days`, old versions a day. */
export function accessLogLifecycle(days: number) {
  return [
    {
      id: "expire-access-logs",
      status: "Enabled",
      filter: {},
      expiration: { days },
      noncurrentVersionExpiration: { noncurrentDays: 1 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
    {
      id: "remove-expired-delete-markers",
      status: "Enabled",
      filter: {},
      expiration: { expiredObjectDeleteMarker: true },
    },
  ];
}
