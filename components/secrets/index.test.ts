import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MockRecorder,
  clearTextPaths,
  isSecretOnWire,
  settle,
  setupMocks,
  valueOf,
} from "../../test/support/pulumi-mocks";
import { serviceDefaults } from "../../contract/service";
import { Secrets } from "./index";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
});

describe("Secrets", () => {
  it("stores both values as SecureString parameters under the contract's names, encrypted with a rotating CMK", async () => {
    // Plain strings on purpose: the component must wrap them as secrets itself.
    const s = new Secrets("sec", {
      service: { ...serviceDefaults, name: "sample-api" },
      env: "dev",
      datadogApiKey: "dd-MARKER",
      papertrailDestination: "pt-MARKER:1",
    });
    expect(await valueOf(s.parameterArns)).toEqual([
      "arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/dev/datadog-api-key",
      "arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/dev/papertrail-destination",
    ]);
    await settle();
    expect(mocks.one("aws:kms/key:Key").inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const params = mocks.ofType("aws:ssm/parameter:Parameter");
    expect(params.map((p) => [p.inputs.name, p.inputs.type, p.inputs.keyId])).toEqual([
      ["/sample-api/dev/datadog-api-key", "SecureString", "arn:aws:kms:us-east-1:123456789012:key/sec-key-0000"],
      ["/sample-api/dev/papertrail-destination", "SecureString", "arn:aws:kms:us-east-1:123456789012:key/sec-key-0000"],
    ]);
    for (const p of params) expect(isSecretOnWire(p.wire, "value")).toBe(true);
    for (const r of mocks.resources) expect(clearTextPaths(r.wire, "MARKER")).toEqual([]);
    expect(pulumi.Output.isInstance(s.keyArn)).toBe(true);
    // The destination's port, for the hosts' egress rule: a secret like the destination.
    expect(await valueOf(s.papertrailPort)).toBe(1);
    expect(await (s.papertrailPort as any).isSecret).toBe(true);
    // The revision names the parameters' versions (the provider's answer: 1 for a first value), no value.
    expect(await valueOf(s.revision)).toBe("datadog-api-key:1/papertrail-destination:1");
    expect(await (s.revision as any).isSecret).toBe(false);
  });

  it("key policy: the reader roles decrypt through SSM, own path only; the deploying identity may too; everyone else is denied", async () => {
    mocks.resources.length = 0;
    new Secrets("kp", {
      service: { ...serviceDefaults, name: "sample-api" },
      env: "prod",
      datadogApiKey: "k",
      papertrailDestination: "d:1",
      readerRoleArns: ["arn:aws:iam::123456789012:role/hosts"],
    });
    await settle();
    const statements = JSON.parse(mocks.one("aws:kms/key:Key").inputs.policy).Statement;
    const pattern = "arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/prod/*";
    expect(statements.find((s: any) => s.Sid === "HostsDecryptOwnParametersViaSsm")).toMatchObject({
      Principal: { AWS: ["arn:aws:iam::123456789012:role/hosts"] },
      Condition: {
        StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" },
        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": pattern },
      },
    });
    // The mocks' caller is an IAM user: the default operator is that user, the only one who may also put a value.
    const principals = (sid: string) =>
      statements.find((s: any) => s.Sid === sid).Condition.ArnNotLike["aws:PrincipalArn"];
    expect(principals("DenyDecryptByOtherPrincipals")).toEqual([
      "arn:aws:iam::123456789012:role/hosts",
      "arn:aws:iam::123456789012:user/test",
    ]);
    expect(principals("DenyEncryptByOtherPrincipals")).toEqual(["arn:aws:iam::123456789012:user/test"]);
    expect(mocks.calls.map((c) => c.token)).toEqual(
      expect.arrayContaining(["aws:index/getPartition:getPartition", "aws:index/getCallerIdentity:getCallerIdentity"]),
    );
  });

  it("refuses a key deletion window AWS would refuse, before anything is created", () => {
    const make = () =>
      new Secrets("bad", {
        service: serviceDefaults,
        env: "dev",
        datadogApiKey: "k",
        papertrailDestination: "d:1",
        keyDeletionWindowDays: 5,
      });
    expect(make).toThrow("keyDeletionWindowDays: 5 must be an integer from 7 to 30");
    expect(make).toThrow(pulumi.RunError);
  });
});
