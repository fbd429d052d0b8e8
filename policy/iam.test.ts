// policy/iam.ts over hand-made graphs: what makes a role able to read secrets on "*", and what does not.
// AmazonSSMManagedInstanceCore's own document (AWS managed policy reference, v2) allows ssm:GetParameter(s)
// on "*": https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html
import { describe, expect, it } from "vitest";
import { formatProblem } from "../contract/problem";
import type { GraphResource } from "./graph";
import { checkNoWildcardSecretReads, wildcardSecretReads } from "./iam";

const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const rolePolicy = (name: string, policy: string): GraphResource => ({
  type: "aws:iam/rolePolicy:RolePolicy",
  name,
  inputs: { role: "r-id", policy },
});
const attachment = (name: string, policyArn: string): GraphResource => ({
  type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  name,
  inputs: { role: "r", policyArn },
});
const role: GraphResource = { type: "aws:iam/role:Role", name: "r", inputs: { assumeRolePolicy: "{}" } };

describe("checkNoWildcardSecretReads", () => {
  it("passes a role whose policies name their parameters, key and objects", () => {
    const g = [
      role,
      rolePolicy(
        "own",
        doc(
          { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/releases/*" },
          {
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: ["arn:aws:ssm:us-east-1:1:parameter/svc/dev/a"],
          },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:1:key/k" },
          { Effect: "Allow", Action: ["ssmmessages:OpenDataChannel", "ssm:UpdateInstanceInformation"], Resource: "*" },
          { Effect: "Deny", Action: "*", Resource: "*" },
        ),
      ),
    ];
    expect(checkNoWildcardSecretReads(g)).toEqual([]);
  });

  it("fails the managed policy that let every host read every parameter, by its ARN in any partition", () => {
    const problems = checkNoWildcardSecretReads([
      role,
      attachment("ssm-core", "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"),
    ]);
    expect(problems.map(formatProblem)).toEqual([
      'aws:iam/rolePolicyAttachment:RolePolicyAttachment::ssm-core: attaches the AWS managed policy AmazonSSMManagedInstanceCore, which allows ssm:GetParameter, ssm:GetParameters on "*": replace it with an inline policy that names its resources',
    ]);
  });

  it("fails an AWS managed policy it has not vetted, and one listed on the role itself", () => {
    const problems = checkNoWildcardSecretReads([
      { ...role, inputs: { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] } },
      attachment("cw", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"),
      attachment("own", "arn:aws:iam::123456789012:policy/mine"),
    ]);
    expect(problems.map((p) => p.field)).toEqual([
      "aws:iam/role:Role::r",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment::cw",
    ]);
    expect(problems[1]!.message).toMatch(/has not vetted/);
  });

  it.each([
    [
      { Effect: "Allow", Action: "ssm:GetParameter*", Resource: "*" },
      ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"],
    ],
    [{ Effect: "Allow", Action: "kms:*", Resource: "*" }, ["kms:Decrypt"]],
    [{ Effect: "Allow", Action: "S3:Get*", Resource: ["arn:aws:s3:::b/*", "*"] }, ["s3:GetObject"]],
    [
      { Effect: "Allow", NotAction: "iam:*", Resource: "*" },
      [
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "kms:Decrypt",
        "s3:GetObject",
      ],
    ],
    [{ Effect: "Allow", Action: "kms:Decrypt", NotResource: "arn:aws:kms:us-east-1:1:key/other" }, ["kms:Decrypt"]],
    [
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
      },
      ["kms:Decrypt"],
    ],
    [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "arn:aws:ssm:*:*:parameter/*" }, []],
    [{ Effect: "Deny", Action: "*", Resource: "*" }, []],
  ])("statement %j reads %j on every resource", (statement, actions) => {
    expect(wildcardSecretReads(statement as any)).toEqual(actions);
  });

  it("reads inline policies wherever a role can hold them: RolePolicy, Role.inlinePolicies, Policy", () => {
    const wide = doc({ Sid: "Wide", Effect: "Allow", Action: "kms:Decrypt", Resource: "*" });
    const problems = checkNoWildcardSecretReads([
      rolePolicy("p", wide),
      { ...role, inputs: { inlinePolicies: [{ name: "inline", policy: wide }] } },
      { type: "aws:iam/policy:Policy", name: "managed", inputs: { policy: wide } },
    ]);
    expect(problems.map(formatProblem)).toEqual([
      'aws:iam/rolePolicy:RolePolicy::p: inline policy statement Wide allows kms:Decrypt on "*": name the parameters, keys and objects instead',
      'aws:iam/policy:Policy::managed: policy statement Wide allows kms:Decrypt on "*": name the parameters, keys and objects instead',
      'aws:iam/role:Role::r: inline policy inline statement Wide allows kms:Decrypt on "*": name the parameters, keys and objects instead',
    ]);
  });
});
