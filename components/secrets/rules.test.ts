// The secrets key's policy as a pure function. What Parameter Store sends KMS, per AWS: encryption context
// PARAMETER_ARN = the parameter's ARN (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html),
// and kms:ViaService = ssm.<region>.amazonaws.com for calls SSM makes for a principal
// (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
import { describe, expect, it } from "vitest";
import {
  checkPapertrailDestination,
  papertrailPortOf,
  principalArnPatterns,
  secretsKeyPolicy,
  secretsParameterPattern,
  secretsRevision,
} from "./rules";

const input = {
  partition: "aws",
  accountId: "111122223333",
  region: "eu-west-1",
  parameterArnPattern: "arn:aws:ssm:eu-west-1:111122223333:parameter/svc/prod/*",
  readerRoleArns: ["arn:aws:iam::111122223333:role/hosts", "arn:aws:iam::111122223333:role/nodes"],
  operatorArnPatterns: ["arn:aws:iam::111122223333:role/deployer"],
};

describe("secretsKeyPolicy", () => {
  const statements = JSON.parse(secretsKeyPolicy(input)).Statement as any[];
  const sid = (s: string) => statements.find((x) => x.Sid === s);

  it("the account administers the key (never unmanageable); the hosts decrypt through SSM, own parameters only", () => {
    expect(sid("AccountAdministersTheKey")).toEqual({
      Sid: "AccountAdministersTheKey",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111122223333:root" },
      Action: "kms:*",
      Resource: "*",
    });
    expect(sid("HostsDecryptOwnParametersViaSsm")).toEqual({
      Sid: "HostsDecryptOwnParametersViaSsm",
      Effect: "Allow",
      Principal: { AWS: input.readerRoleArns },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" },
        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": input.parameterArnPattern },
      },
    });
  });

  it("denies everyone else decryption, outside SSM and for other parameters, whatever IAM grants", () => {
    const denies = statements.filter((s) => s.Effect === "Deny");
    expect(denies.map((s) => [s.Sid, s.Principal, s.Action, s.Condition])).toEqual([
      [
        "DenyDecryptOutsideSsm",
        { AWS: "*" },
        ["kms:Decrypt", "kms:ReEncryptFrom"],
        { StringNotEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" } },
      ],
      [
        "DenyDecryptOfOtherParameters",
        { AWS: "*" },
        ["kms:Decrypt", "kms:ReEncryptFrom"],
        { StringNotLike: { "kms:EncryptionContext:PARAMETER_ARN": input.parameterArnPattern } },
      ],
      [
        "DenyDecryptByOtherPrincipals",
        { AWS: "*" },
        ["kms:Decrypt", "kms:ReEncryptFrom"],
        { ArnNotLike: { "aws:PrincipalArn": [...input.readerRoleArns, ...input.operatorArnPatterns] } },
      ],
      [
        "DenyEncryptByOtherPrincipals",
        { AWS: "*" },
        ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncryptTo"],
        { ArnNotLike: { "aws:PrincipalArn": input.operatorArnPatterns } },
      ],
    ]);
  });

  it("without reader roles: no Allow with an empty principal (KMS refuses one), operators only", () => {
    const s = JSON.parse(secretsKeyPolicy({ ...input, readerRoleArns: [] })).Statement as any[];
    expect(s.map((x) => x.Sid)).not.toContain("HostsDecryptOwnParametersViaSsm");
    const byOthers = s.find((x) => x.Sid === "DenyDecryptByOtherPrincipals");
    expect(byOthers.Condition.ArnNotLike["aws:PrincipalArn"]).toEqual(input.operatorArnPatterns);
  });
});

describe("secretsParameterPattern", () => {
  it("the parameters' common path, in the looked-up partition", () => {
    expect(
      secretsParameterPattern({
        partition: "aws-cn",
        region: "cn-north-1",
        accountId: "1",
        names: ["/svc/dev/a", "/svc/dev/b"],
      }),
    ).toBe("arn:aws-cn:ssm:cn-north-1:1:parameter/svc/dev/*");
    expect(() =>
      secretsParameterPattern({ partition: "aws", region: "r", accountId: "1", names: ["/a/x", "/b/y"] }),
    ).toThrow(/share one path/);
    expect(() => secretsParameterPattern({ partition: "aws", region: "r", accountId: "1", names: ["/x"] })).toThrow(
      /share one path/,
    );
  });
});

describe("principalArnPatterns", () => {
  it.each([
    [
      "arn:aws:sts::111122223333:assumed-role/Deployer/ci-123",
      ["arn:aws:iam::111122223333:role/Deployer", "arn:aws:iam::111122223333:role/*/Deployer"],
    ],
    [
      "arn:aws-us-gov:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1a/jo@example.com",
      [
        "arn:aws-us-gov:iam::111122223333:role/AWSReservedSSO_Admin_1a",
        "arn:aws-us-gov:iam::111122223333:role/*/AWSReservedSSO_Admin_1a",
      ],
    ],
    ["arn:aws:iam::111122223333:user/ops/jo", ["arn:aws:iam::111122223333:user/ops/jo"]],
  ])("%s -> %j", (caller, patterns) => {
    expect(principalArnPatterns(caller)).toEqual(patterns);
  });
});

describe("the Papertrail destination's port", () => {
  it("host:port as the boot script accepts it; the message never repeats the secret", () => {
    expect(checkPapertrailDestination("logs5.papertrailapp.com:23456")).toEqual([]);
    expect(papertrailPortOf("logs5.papertrailapp.com:23456")).toBe(23456);
    for (const bad of [
      "logs5.papertrailapp.com",
      "logs5.papertrailapp.com:0",
      "logs5.papertrailapp.com:70000",
      "-x:1",
      "a b:1",
    ]) {
      const problems = checkPapertrailDestination(bad);
      expect(
        problems.map((p) => p.field),
        bad,
      ).toEqual(["papertrailDestination"]);
      expect(problems[0]!.message).not.toContain(bad);
    }
  });
});

describe("secretsRevision", () => {
  it("names each parameter's version, in a fixed order, and changes with any of them", () => {
    const r = secretsRevision({ "papertrail-destination": 2, "datadog-api-key": 7 });
    expect(r).toBe("datadog-api-key:7/papertrail-destination:2");
    expect(secretsRevision({ "datadog-api-key": 8, "papertrail-destination": 2 })).not.toBe(r);
    expect(secretsRevision({ "datadog-api-key": 7, "papertrail-destination": 3 })).not.toBe(r);
    // An EC2 tag value: letters, digits, spaces and + - = . _ : / @ only, at most 256 characters.
    expect(r).toMatch(/^[\w\s+\-=.:/@]{1,256}$/);
  });

  it("refuses a missing or malformed version rather than tag hosts with it", () => {
    expect(() => secretsRevision({ "datadog-api-key": undefined })).toThrow(
      /secretsRevision: datadog-api-key: undefined: each needs its Parameter Store version/,
    );
    expect(() => secretsRevision({ a: 0 })).toThrow(/a: 0/);
    expect(() => secretsRevision({})).toThrow(/no parameters/);
  });
});
