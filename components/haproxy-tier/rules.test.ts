// Pure rules of the HaproxyTier: what the HAProxy nodes' role may do.
import { describe, expect, it } from "vitest";
import { checkHaproxyTierArgs, nodePolicy, oneAtATimeMaxHealthyPercentage } from "./rules";
import type { HaproxyTierArgs } from "./index";

const parameterArns = ["arn:aws:ssm:eu-west-1:123456789012:parameter/sample-api/prod/datadog-api-key"];
const kmsKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/0000";

describe("nodePolicy", () => {
  it("reads the node's own parameters and decrypts them with the secrets key through SSM only", () => {
    // The parameters are SecureStrings under the stack's own key (components/secrets): GetParameter
    // --with-decryption needs kms:Decrypt on that key from the caller; kms:ViaService limits it to calls SSM
    // makes for the role (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service,
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html).
    const s = JSON.parse(nodePolicy({ parameterArns, kmsKeyArn, region: "eu-west-1" })).Statement;
    expect(s).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: parameterArns,
      }),
    );
    expect(s).toContainEqual({
      Sid: "DecryptOwnParametersViaSsm",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" } },
    });
    // Nothing on every key.
    for (const st of s) if (JSON.stringify(st.Action).includes("kms:")) expect(st.Resource).toBe(kmsKeyArn);
  });

  it("reads the instance's tags for the Datadog agent's collect_ec2_tags (no resource-level scope exists for it)", () => {
    // ec2:DescribeTags supports no resource ARN or condition key (Service Authorization Reference, Amazon EC2).
    const s = JSON.parse(nodePolicy({ parameterArns, region: "eu-west-1" })).Statement;
    expect(s).toContainEqual({ Sid: "ReadInstanceTags", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" });
  });

  it("without a key (parameters under the AWS managed aws/ssm key) grants no kms action", () => {
    const s = JSON.parse(nodePolicy({ parameterArns, region: "eu-west-1" })).Statement;
    expect(JSON.stringify(s)).not.toContain("kms:");
  });
});

describe("oneAtATimeMaxHealthyPercentage", () => {
  it("lets the group run one node above its size while it replaces one, never more", () => {
    // Max healthy percentage is of the desired capacity, 100-200, at most 100 above the minimum
    // (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html).
    for (const [count, pct] of [
      [1, 200],
      [2, 150],
      [3, 134],
      [4, 125],
      [10, 110],
    ] as const) {
      expect(oneAtATimeMaxHealthyPercentage(count)).toBe(pct);
      expect(Math.floor((count * oneAtATimeMaxHealthyPercentage(count)) / 100)).toBe(count + 1);
    }
  });
});

describe("checkHaproxyTierArgs: fleetImageRolloutHosts", () => {
  const args = (fleetImageRolloutHosts: number[]) =>
    ({
      env: "prod",
      fleetInstanceCount: 3,
      fleetImageRolloutHosts,
      privateSubnetIds: ["a", "b"],
      publicSubnetIds: ["c"],
    }) as unknown as HaproxyTierArgs;
  it("takes host indexes, fewer than the whole fleet", () => {
    expect(checkHaproxyTierArgs(args([]))).toEqual([]);
    expect(checkHaproxyTierArgs(args([2]))).toEqual([]);
    expect(checkHaproxyTierArgs(args([0, 1]))).toEqual([]);
    expect(checkHaproxyTierArgs(args([0, 1, 2])).map((p) => p.field)).toEqual(["fleetImageRolloutHosts"]);
    expect(checkHaproxyTierArgs(args([-1, 1.5, 3])).map((p) => p.message)).toEqual([
      "-1 is not a host index (0-2)",
      "1.5 is not a host index (0-2)",
      "3 is not a host index (0-2)",
      "3 of 3 hosts at once; leave at least one serving",
    ]);
  });
});
