// Where data and secrets live: S3 buckets private, TLS-only, encrypted and versioned; KMS keys rotated and with
// policies of their own (policy/kms.ts); no role reading secrets on "*" (policy/iam.ts).
import type { PolicyResource } from "@pulumi/policy";
import { statementsOf } from "../graph";
import { checkNoWildcardSecretReads } from "../iam";
import { checkKeyPolicies, checkParameterKeys } from "../kms";
import { PackPolicy, graphOf, isOf, list, ofTypes, referrers, reportProblems, types } from "./common";

/** A bucket's settings resources (v1 and V2 tokens), found by the `bucket` they name. */
const settingsOf = (rs: readonly PolicyResource[], set: readonly string[], b: PolicyResource) =>
  referrers(rs, set, "bucket", b);

const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
const everyone = (p: unknown) => p === "*" || list((p as { AWS?: unknown } | undefined)?.AWS).includes("*");

export const s3Private: PackPolicy = {
  name: "s3-bucket-private",
  description:
    "Every bucket has a public access block with all four settings on, no public ACL or grant, and no policy statement that allows everyone without a condition.",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.bucket, ...types.bucketPublicAccessBlock, ...types.bucketAcl, ...types.bucketPolicy],
  validateStack: (args, report) => {
    const rs = args.resources;
    for (const b of ofTypes(rs, types.bucket)) {
      const blocks = settingsOf(rs, types.bucketPublicAccessBlock, b);
      const all = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
      if (!blocks.some((x) => all.every((k) => x.props[k] === true)))
        report(`no public access block with ${all.join(", ")} all true`, b.urn);
      const acls = [b, ...settingsOf(rs, types.bucketAcl, b)];
      for (const a of acls) {
        if (PUBLIC_ACLS.includes(String(a.props.acl))) report(`ACL ${a.props.acl} makes objects public`, a.urn);
        if (PUBLIC_GRANTEES.test(JSON.stringify(a.props.accessControlPolicy ?? a.props.grants ?? null)))
          report("a grant to all (authenticated) AWS users", a.urn);
      }
      const policies = [b, ...settingsOf(rs, types.bucketPolicy, b)];
      for (const p of policies)
        statementsOf(p.props.policy)
          .filter((s) => s.Effect === "Allow" && everyone(s.Principal) && Object.keys(s.Condition ?? {}).length === 0)
          .forEach((s) => report(`statement ${s.Sid ?? ""} allows everyone`.replace("  ", " "), p.urn));
    }
  },
};

export const s3TlsOnly: PackPolicy = {
  name: "s3-bucket-tls-only",
  description: "Every bucket's policy denies requests without TLS (aws:SecureTransport false; Security Hub S3.5).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.bucket, ...types.bucketPolicy],
  validateStack: (args, report) => {
    for (const b of ofTypes(args.resources, types.bucket)) {
      const policies = [b, ...settingsOf(args.resources, types.bucketPolicy, b)];
      const denies = policies.some((p) =>
        statementsOf(p.props.policy).some(
          (s) => s.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false",
        ),
      );
      if (!denies) report("no bucket policy statement denies aws:SecureTransport false", b.urn);
    }
  },
};

const SSE = /^(AES256|aws:kms|aws:kms:dsse)$/;

export const s3Encrypted: PackPolicy = {
  name: "s3-bucket-encrypted",
  description:
    "Every bucket states its default encryption (SSE-S3 or SSE-KMS), inline or through a server-side encryption configuration (v1 or V2).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.bucket, ...types.bucketEncryption],
  validateStack: (args, report) => {
    for (const b of ofTypes(args.resources, types.bucket)) {
      const rules = [
        b.props.serverSideEncryptionConfiguration?.rule,
        ...settingsOf(args.resources, types.bucketEncryption, b).flatMap((c) => list(c.props.rules)),
      ].filter((r) => r !== undefined);
      if (!rules.some((r) => SSE.test(String(r.applyServerSideEncryptionByDefault?.sseAlgorithm))))
        report("no default encryption: add a server-side encryption configuration", b.urn);
    }
  },
};

export const s3Versioned: PackPolicy = {
  name: "s3-bucket-versioned",
  description:
    "Every bucket is versioned (releases for rollback, logs against overwrites), inline or through a versioning resource (v1 or V2; Security Hub S3.14).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.bucket, ...types.bucketVersioning],
  validateStack: (args, report) => {
    for (const b of ofTypes(args.resources, types.bucket)) {
      const on =
        b.props.versioning?.enabled === true ||
        settingsOf(args.resources, types.bucketVersioning, b).some(
          (v) => v.props.versioningConfiguration?.status === "Enabled",
        );
      if (!on) report("versioning is not enabled", b.urn);
    }
  },
};

export const kmsRotation: PackPolicy = {
  name: "kms-key-rotation",
  description: "Every symmetric customer managed KMS key rotates its key material (enableKeyRotation).",
  enforcementLevel: "mandatory",
  resourceTypes: types.kmsKey,
  validateResource: (args, report) => {
    if (!isOf(args.type, types.kmsKey)) return;
    const spec = args.props.customerMasterKeySpec ?? args.props.keySpec ?? "SYMMETRIC_DEFAULT";
    if (spec !== "SYMMETRIC_DEFAULT") return; // AWS rotates only symmetric encryption keys
    if (args.props.enableKeyRotation !== true) report("enableKeyRotation is off");
  },
};

export const kmsKeyPolicies: PackPolicy = {
  name: "kms-key-policies",
  description:
    "Every KMS key states its policy and allows no one unscoped; SecureString parameters use a customer managed key that keeps decryption to SSM, the parameter path and the named principals (policy/kms.ts).",
  enforcementLevel: "mandatory",
  resourceTypes: [...types.kmsKey, ...types.kmsKeyPolicy, ...types.ssmParameter],
  validateStack: (args, report) => {
    const g = graphOf(args.resources);
    reportProblems(args.resources, [...checkKeyPolicies(g), ...checkParameterKeys(g)], report);
  },
};

export const noWildcardSecretReads: PackPolicy = {
  name: "no-wildcard-secret-reads",
  description:
    'No policy a role can hold allows ssm:GetParameter*, kms:Decrypt or s3:GetObject on "*", AWS managed policies included (policy/iam.ts).',
  enforcementLevel: "mandatory",
  resourceTypes: [
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
  ],
  validateStack: (args, report) =>
    reportProblems(args.resources, checkNoWildcardSecretReads(graphOf(args.resources)), report),
};

export const dataPolicies: PackPolicy[] = [
  s3Private,
  s3TlsOnly,
  s3Encrypted,
  s3Versioned,
  kmsRotation,
  kmsKeyPolicies,
  noWildcardSecretReads,
];
