// KMS key policies (security review F7 and §2 "KMS", KMS key policy docs:
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
// - Every customer managed key states its policy (its `policy` input, or an aws.kms.KeyPolicy naming it). Without one AWS gives the key its default policy, which lets any
//   principal of the account whose IAM policies allow it use the key for anything
//   (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
// - No statement allows a wildcard principal, and one that allows an AWS service principal is scoped by a condition
//   (aws:SourceAccount, aws:SourceArn, an encryption context or kms:ViaService): the confused-deputy guard
//   (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
// - SecureString parameters are encrypted with a customer managed key (a keyId that is not alias/aws/ssm: the AWS
//   managed key's policy cannot be changed and lets every principal of the account decrypt through SSM), and a
//   key whose policy lets principals decrypt through SSM denies decryption outside SSM, outside a parameter path,
//   and by any principal it does not name (an explicit Deny wins over the IAM grants the account statement allows).
import type { Problem } from "../contract/problem";
import {
  Graph,
  GraphResource,
  Statement,
  asList,
  conditionValues,
  coversAction,
  ofType,
  problemAt,
  statementsOf,
} from "./graph";

const principalsOf = (s: Statement): { aws: string[]; services: string[]; any: boolean } => {
  const p = s.Principal as string | { AWS?: string | string[]; Service?: string | string[] } | undefined;
  if (p === "*") return { aws: [], services: [], any: true };
  const aws = asList(typeof p === "object" ? p.AWS : undefined);
  return { aws, services: asList(typeof p === "object" ? p.Service : undefined), any: aws.includes("*") };
};
const hasConditions = (s: Statement) => Object.keys(s.Condition ?? {}).length > 0;

/** A key's policy: its own `policy`, or that of an aws.kms.KeyPolicy naming the key by id, key id or ARN. */
function policyOf(g: Graph, k: GraphResource): unknown {
  if (k.inputs.policy !== undefined && k.inputs.policy !== "") return k.inputs.policy;
  const handles = [k.id, k.inputs.keyId, k.inputs.arn].filter((v) => typeof v === "string");
  return ofType(g, "aws:kms/keyPolicy:KeyPolicy").find((p) => handles.includes(p.inputs.keyId))?.inputs.policy;
}

/** Problems: keys without a policy of their own; statements that allow anyone, or a service unscoped. */
export function checkKeyPolicies(g: Graph): Problem[] {
  return ofType(g, "aws:kms/key:Key").flatMap((k) => {
    const policy = policyOf(g, k);
    if (policy === undefined || policy === "")
      return [
        problemAt(
          k,
          "has no key policy: AWS's default lets every principal of the account that IAM allows use the key; state who administers and who uses it",
        ),
      ];
    return statementsOf(policy)
      .filter((s) => s.Effect === "Allow")
      .flatMap((s, i) => {
        const who = principalsOf(s);
        if (who.any && !hasConditions(s)) return [problemAt(k, `statement ${s.Sid ?? i} allows any principal`)];
        if (who.services.length > 0 && !hasConditions(s))
          return [
            problemAt(
              k,
              `statement ${s.Sid ?? i} allows ${who.services.join(", ")} without a condition: scope it with aws:SourceAccount/aws:SourceArn or an encryption context`,
            ),
          ];
        return [];
      });
  });
}

/** Problems: SecureString parameters on the AWS managed key; parameter keys that let decryption escape SSM, the path or the named principals. */
export function checkParameterKeys(g: Graph): Problem[] {
  const onManagedKey = ofType(g, "aws:ssm/parameter:Parameter")
    .filter(
      (p) =>
        p.inputs.type === "SecureString" &&
        (p.inputs.keyId === undefined || /alias\/aws\/ssm$/.test(String(p.inputs.keyId))),
    )
    .map((p) =>
      problemAt(
        p,
        "SecureString on the AWS managed key alias/aws/ssm, whose policy lets every principal of the account decrypt through SSM: give it a customer managed key",
      ),
    );
  const keys = ofType(g, "aws:kms/key:Key").flatMap((k) => {
    const statements = statementsOf(policyOf(g, k));
    const viaSsm = statements.some(
      (s) => s.Effect === "Allow" && conditionValues(s, "StringEquals", "kms:ViaService").some((v) => /^ssm\./.test(v)),
    );
    if (!viaSsm) return [];
    const denies = statements.filter(
      (s) => s.Effect === "Deny" && principalsOf(s).any && coversAction(s, "kms:Decrypt"),
    );
    const missing = [
      [
        "outside SSM",
        (s: Statement) => conditionValues(s, "StringNotEquals", "kms:ViaService").some((v) => /^ssm\./.test(v)),
      ],
      [
        "outside a parameter path",
        (s: Statement) => conditionValues(s, "StringNotLike", "kms:EncryptionContext:PARAMETER_ARN").length > 0,
      ],
      [
        "by principals it does not name",
        (s: Statement) => conditionValues(s, "ArnNotLike", "aws:PrincipalArn").length > 0,
      ],
    ]
      .filter(([, test]) => !denies.some(test as (s: Statement) => boolean))
      .map(([what]) => what as string);
    return missing.length === 0
      ? []
      : [problemAt(k, `lets principals decrypt SSM parameters but does not deny decryption ${missing.join(", ")}`)];
  });
  return [...onManagedKey, ...keys];
}
