// No role of the stack may read secrets it was not given by name: no policy any role can hold allows
// ssm:GetParameter*, kms:Decrypt or s3:GetObject on every resource ("*"). That is what made every host able
// to read every SSM parameter of the account: AWS's AmazonSSMManagedInstanceCore allows ssm:GetParameter and
// ssm:GetParameters on "*" (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html,
// version v2), so a role that holds it reads any String parameter, and any SecureString under a key that
// lets it decrypt (the AWS managed aws/ssm key lets every principal of the account decrypt through SSM).
//
// Where a role's permissions come from, and what this rule reads of each:
//   aws.iam.RolePolicy            its `policy` document
//   aws.iam.Role                  its `inlinePolicies[].policy` documents and its `managedPolicyArns`
//   aws.iam.Policy                its `policy` document (checked whether or not the graph attaches it: a
//                                 customer managed policy exists to be attached)
//   aws.iam.RolePolicyAttachment / aws.iam.PolicyAttachment
//                                 an AWS managed policy ARN (arn:<partition>:iam::aws:policy/...): judged from
//                                 `awsManagedPolicies` below; one the table does not list is refused too, as
//                                 this rule cannot see what it allows. A customer managed ARN is the Policy above.
// A statement is judged by its Effect, Action/NotAction and Resource/NotResource; its conditions are not
// weighed (a condition narrows a grant on "*", but the rule asks for grants that name their resources).
import type { Problem } from "../contract/problem";
import {
  Graph,
  GraphResource,
  Statement,
  asList,
  coversAction,
  ofType,
  onEveryResource,
  problemAt,
  statementsOf,
} from "./graph";

/** Actions that read a secret or the data under a key, when allowed on every resource. */
export const secretReadActions = [
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "ssm:GetParameterHistory",
  "kms:Decrypt",
  "s3:GetObject",
] as const;

/**
 * AWS managed policies this rule knows, by name, with the secretReadActions each allows on "*" (from the AWS
 * managed policy reference, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/). [] = vetted: it
 * allows none of them on "*".
 */
export const awsManagedPolicies: Readonly<Record<string, readonly string[]>> = {
  AmazonSSMManagedInstanceCore: ["ssm:GetParameter", "ssm:GetParameters"],
  AmazonEC2RoleforSSM: ["ssm:GetParameters", "s3:GetObject"],
  AmazonSSMReadOnlyAccess: [
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
  ],
  AmazonSSMFullAccess: [...secretReadActions.filter((a) => a.startsWith("ssm:"))],
  AmazonS3ReadOnlyAccess: ["s3:GetObject"],
  AmazonS3FullAccess: ["s3:GetObject"],
  ReadOnlyAccess: [
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "s3:GetObject",
  ],
  PowerUserAccess: [...secretReadActions],
  AdministratorAccess: [...secretReadActions],
};

/** The secretReadActions a statement allows on every resource. */
export function wildcardSecretReads(s: Statement): string[] {
  if (s.Effect !== "Allow" || !onEveryResource(s)) return [];
  return secretReadActions.filter((a) => coversAction(s, a));
}

const managedName = (arn: string): string | undefined =>
  /^arn:[a-z-]+:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];

function checkDocument(r: GraphResource, where: string, policy: unknown): Problem[] {
  return statementsOf(policy).flatMap((s, i) => {
    const actions = wildcardSecretReads(s);
    return actions.length === 0
      ? []
      : [
          problemAt(
            r,
            `${where} statement ${s.Sid ?? i} allows ${actions.join(", ")} on "*": name the parameters, keys and objects instead`,
          ),
        ];
  });
}

function checkManagedArn(r: GraphResource, arn: unknown): Problem[] {
  if (typeof arn !== "string") return [];
  const name = managedName(arn);
  if (name === undefined) return []; // customer managed: its aws.iam.Policy is checked on its own
  const actions = awsManagedPolicies[name];
  if (actions === undefined)
    return [
      problemAt(
        r,
        `attaches the AWS managed policy ${name}, which this rule has not vetted: grant what the role needs inline, or add ${name} to policy/iam.ts awsManagedPolicies with what it allows on "*"`,
      ),
    ];
  return actions.length === 0
    ? []
    : [
        problemAt(
          r,
          `attaches the AWS managed policy ${name}, which allows ${actions.join(", ")} on "*": replace it with an inline policy that names its resources`,
        ),
      ];
}

/** Problems: every policy a role of the graph can hold that allows reading secrets on "*". */
export function checkNoWildcardSecretReads(g: Graph): Problem[] {
  return [
    ...ofType(g, "aws:iam/rolePolicy:RolePolicy").flatMap((r) => checkDocument(r, "inline policy", r.inputs.policy)),
    ...ofType(g, "aws:iam/policy:Policy").flatMap((r) => checkDocument(r, "policy", r.inputs.policy)),
    ...ofType(g, "aws:iam/role:Role").flatMap((r) => [
      ...asList<{ name?: string; policy?: unknown }>(r.inputs.inlinePolicies).flatMap((p) =>
        checkDocument(r, `inline policy ${p.name ?? ""}`.trim(), p.policy),
      ),
      ...asList<string>(r.inputs.managedPolicyArns).flatMap((arn) => checkManagedArn(r, arn)),
    ]),
    ...[
      ...ofType(g, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
      ...ofType(g, "aws:iam/policyAttachment:PolicyAttachment"),
    ].flatMap((r) => checkManagedArn(r, r.inputs.policyArn)),
  ];
}
