// Pure rules of the Secrets component (no Pulumi import): the key policy of the key encrypting the service's
// SSM SecureString parameters, and the Papertrail destination's port.
//
// Who may decrypt, and how (security review F6, F7):
// - The account administers the key: its root principal holds kms:*, as in AWS's default key policy, so the key
//   never becomes unmanageable (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
//   That statement also lets IAM policies grant use of the key, so the Deny statements below are what keep
//   decryption to the hosts: an explicit Deny in a key policy wins over any IAM Allow.
// - The instance roles that read the parameters at boot may decrypt, named in the key policy itself (so a role
//   needs no IAM kms grant: the HAProxy nodes had none and could not boot, F6).
// - Only through SSM: kms:ViaService = ssm.<region>.amazonaws.com
//   (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
// - Only for the service's own parameter path: Parameter Store encrypts and decrypts every SecureString with the
//   encryption context PARAMETER_ARN = the parameter's ARN, so kms:EncryptionContext:PARAMETER_ARN names it
//   (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html#parameter-store-encryption-context).
// - Operators (the identity running `pulumi up`, break-glass admins) may decrypt the same way: the AWS provider
//   reads an aws.ssm.Parameter back with WithDecryption=true after every create and update and on refresh
//   (terraform-provider-aws internal/service/ssm/parameter.go resourceParameterRead), so without them a
//   secret rotation or a refresh would fail with AccessDeniedException.
// kms:ReEncryptFrom is denied with Decrypt: re-encrypting a parameter's ciphertext under another key is a way to
// decrypt it. Encrypt (PutParameter) is the operators' only: nobody else can put a value hosts would trust.

import { accountAdministersTheKey } from "../_shared/keyPolicy";
import type { Problem } from "../../contract/problem";

/** A key policy statement. */
export type KeyPolicyStatement = Record<string, unknown>;

export interface SecretsKeyPolicyInput {
  partition: string;
  accountId: string;
  region: string;
  /** `arn:...:parameter/<service>/<env>/*`: the parameters the key may decrypt (secretsParameterPattern). */
  parameterArnPattern: string;
  /** Instance roles that read the parameters at boot. */
  readerRoleArns: string[];
  /** Other principals that may decrypt through SSM: ARNs, or ArnLike patterns as aws:PrincipalArn matches them. */
  operatorArnPatterns: string[];
}

const decrypting = ["kms:Decrypt", "kms:ReEncryptFrom"];
const encrypting = ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncryptTo"];

/** The ARN pattern of the parameters under the common path of `names` (`/svc/env/a`, `/svc/env/b` -> `.../parameter/svc/env/*`). */
export function secretsParameterPattern(a: {
  partition: string;
  region: string;
  accountId: string;
  names: string[];
}): string {
  const dirs = [...new Set(a.names.map((n) => n.slice(0, n.lastIndexOf("/") + 1)))];
  if (dirs.length !== 1 || dirs[0] === "/")
    throw new Error(`parameter names ${a.names.join(", ")} do not share one path below /`);
  return `arn:${a.partition}:ssm:${a.region}:${a.accountId}:parameter${dirs[0]}*`;
}

/**
 * The aws:PrincipalArn patterns of the identity `aws sts get-caller-identity` reports: an assumed role's session
 * ARN becomes its role's ARN (with any path: `role/Name` and `role/*\/Name`), others stay as they are.
 */
export function principalArnPatterns(callerArn: string): string[] {
  const m = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (!m) return [callerArn];
  const [, partition, account, role] = m;
  return [`arn:${partition}:iam::${account}:role/${role}`, `arn:${partition}:iam::${account}:role/*/${role}`];
}

/** The key policy document (JSON text). */
export function secretsKeyPolicy(a: SecretsKeyPolicyInput): string {
  const viaSsm = `ssm.${a.region}.amazonaws.com`;
  const statements: KeyPolicyStatement[] = [accountAdministersTheKey(a.partition, a.accountId)];
  if (a.readerRoleArns.length > 0)
    statements.push({
      Sid: "HostsDecryptOwnParametersViaSsm",
      Effect: "Allow",
      Principal: { AWS: a.readerRoleArns },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": viaSsm },
        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": a.parameterArnPattern },
      },
    });
  statements.push(
    {
      Sid: "DenyDecryptOutsideSsm",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: decrypting,
      Resource: "*",
      Condition: { StringNotEquals: { "kms:ViaService": viaSsm } },
    },
    {
      Sid: "DenyDecryptOfOtherParameters",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: decrypting,
      Resource: "*",
      Condition: { StringNotLike: { "kms:EncryptionContext:PARAMETER_ARN": a.parameterArnPattern } },
    },
    {
      Sid: "DenyDecryptByOtherPrincipals",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: decrypting,
      Resource: "*",
      Condition: { ArnNotLike: { "aws:PrincipalArn": [...a.readerRoleArns, ...a.operatorArnPatterns] } },
    },
    // Putting a value: PutParameter has KMS encrypt it with the caller's permissions (Encrypt for a standard
    // parameter, GenerateDataKey for an advanced one), so only the operators may set or rotate a secret.
    {
      Sid: "DenyEncryptByOtherPrincipals",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: encrypting,
      Resource: "*",
      Condition: { ArnNotLike: { "aws:PrincipalArn": a.operatorArnPatterns } },
    },
  );
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Problems with a Papertrail destination: `host:port` as the secrets script accepts it (host/secrets.ts), port
 * 1-65535. The message never repeats the value: it is a secret.
 */
export function checkPapertrailDestination(destination: string): Problem[] {
  const m = /^[A-Za-z0-9][A-Za-z0-9.-]*:(\d{1,5})$/.exec(destination);
  return m && Number(m[1]) >= 1 && Number(m[1]) <= 65535
    ? []
    : [
        {
          field: "papertrailDestination",
          message: "must be host:port with a port from 1 to 65535, like logsN.papertrailapp.com:12345",
        },
      ];
}

/** The port of a valid Papertrail destination (checkPapertrailDestination). */
export function papertrailPortOf(destination: string): number {
  return Number(destination.slice(destination.lastIndexOf(":") + 1));
}

/**
 * The revision of the secrets: each parameter's Parameter Store version, by name (`datadog-api-key:3/...`),
 * never a value. Every put of a new value raises its parameter's version, so a new revision means a host that
 * booted before it holds an old value: the Fleet puts it in the launch template (an instance tag), and the
 * new launch template version is rolled out by the instance refresh like a release.
 */
export function secretsRevision(versions: Record<string, unknown>): string {
  const entries = Object.entries(versions).sort(([a], [b]) => a.localeCompare(b));
  const bad = entries.filter(([, v]) => !(typeof v === "number" && Number.isInteger(v) && v > 0));
  if (entries.length === 0 || bad.length > 0)
    throw new Error(
      `secretsRevision: ${bad.map(([k, v]) => `${k}: ${String(v)}`).join(", ") || "no parameters"}: each needs its Parameter Store version, a whole number from 1`,
    );
  return entries.map(([k, v]) => `${k}:${v as number}`).join("/");
}
