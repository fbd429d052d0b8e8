// policy/kms.ts over hand-made graphs. Default key policy: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html;
// Parameter Store's encryption context: https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html.
import { describe, expect, it } from "vitest";
import { secretsKeyPolicy } from "../components/secrets/rules";
import type { GraphResource } from "./graph";
import { checkKeyPolicies, checkParameterKeys } from "./kms";

const key = (name: string, policy?: unknown): GraphResource => ({
  type: "aws:kms/key:Key",
  name,
  inputs: policy === undefined ? {} : { policy },
});
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const root = {
  Sid: "Admin",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::1:root" },
  Action: "kms:*",
  Resource: "*",
};
const secretsPolicy = secretsKeyPolicy({
  partition: "aws",
  accountId: "1",
  region: "us-east-1",
  parameterArnPattern: "arn:aws:ssm:us-east-1:1:parameter/svc/dev/*",
  readerRoleArns: ["arn:aws:iam::1:role/hosts"],
  operatorArnPatterns: ["arn:aws:iam::1:role/deployer"],
});

describe("checkKeyPolicies", () => {
  it("fails a key on AWS's default policy, a wildcard principal and an unscoped service", () => {
    const problems = checkKeyPolicies([
      key("default"),
      key("open", doc(root, { Sid: "Anyone", Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" })),
      key(
        "cw",
        doc(root, {
          Sid: "Alarms",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
        }),
      ),
    ]);
    expect(problems.map((p) => [p.field, p.message.split(":")[0]])).toEqual([
      ["aws:kms/key:Key::default", "has no key policy"],
      ["aws:kms/key:Key::open", "statement Anyone allows any principal"],
      ["aws:kms/key:Key::cw", "statement Alarms allows cloudwatch.amazonaws.com without a condition"],
    ]);
  });

  it("passes the secrets key's policy and a service scoped by its source account", () => {
    const scoped = {
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": "1" } },
    };
    expect(checkKeyPolicies([key("secrets", secretsPolicy), key("alarms", doc(root, scoped))])).toEqual([]);
  });
});

describe("checkParameterKeys", () => {
  const param = (keyId?: string): GraphResource => ({
    type: "aws:ssm/parameter:Parameter",
    name: "p",
    inputs: { type: "SecureString", ...(keyId ? { keyId } : {}) },
  });

  it("passes SecureStrings on a customer managed key whose policy keeps decryption to SSM, the path and the named principals", () => {
    expect(checkParameterKeys([param("arn:aws:kms:us-east-1:1:key/k"), key("secrets", secretsPolicy)])).toEqual([]);
  });

  it("fails a SecureString on the AWS managed key, and a parameters key that only allows", () => {
    const allowOnly = doc(root, {
      Sid: "Hosts",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::1:role/hosts" },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
    });
    const problems = checkParameterKeys([param(), param("alias/aws/ssm"), key("k", allowOnly)]);
    expect(problems.map((p) => p.field)).toEqual([
      "aws:ssm/parameter:Parameter::p",
      "aws:ssm/parameter:Parameter::p",
      "aws:kms/key:Key::k",
    ]);
    expect(problems[2]!.message).toBe(
      "lets principals decrypt SSM parameters but does not deny decryption outside SSM, outside a parameter path, by principals it does not name",
    );
  });
});
