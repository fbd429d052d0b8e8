import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { ec2Role, ssmAgentPolicy } from "./ec2Role";

const mocks = useMocks();

class Holder extends pulumi.ComponentResource {
  constructor(name: string, build: (parent: pulumi.Resource) => void) {
    super("test:index:Holder", name, {}, {});
    build(this);
    this.registerOutputs({});
  }
}

describe("ec2Role", () => {
  it("EC2 may assume it; the SSM agent's own inline policy, not AmazonSSMManagedInstanceCore; the given inline policy; a profile; parts named as asked", async () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "arn:aws:ssm:us-east-1:1:parameter/p" }],
    });
    const { options } = await runProgram(() => {
      new Holder("h", (parent) =>
        ec2Role(
          "web-node",
          { policy, description: "nodes", tags: { env: "dev" }, names: { policy: "web-node-params" } },
          { parent },
        ),
      );
      return {};
    });
    const role = mocks.one("aws:iam/role:Role");
    expect(role.name).toBe("web-node");
    expect(role.inputs).toMatchObject({ description: "nodes", tags: { env: "dev" } });
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    // No managed policy: AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on "*" (security review F1).
    expect(mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    const [agent, own] = mocks.ofType("aws:iam/rolePolicy:RolePolicy");
    expect(own).toMatchObject({ name: "web-node-params", inputs: { role: "web-node-id", policy } });
    expect(agent).toMatchObject({
      name: "web-node-ssm-agent",
      inputs: { role: "web-node-id", policy: ssmAgentPolicy },
    });
    const actions = JSON.parse(agent!.inputs.policy).Statement.flatMap((s: any) => s.Action);
    // Session Manager, Run Command and associations as AWS documents them; no parameter, key or object read.
    for (const a of [
      "ssm:UpdateInstanceInformation",
      "ssmmessages:OpenDataChannel",
      "ec2messages:GetMessages",
      "ssm:ListInstanceAssociations",
      "ssm:UpdateInstanceAssociationStatus",
    ])
      expect(actions).toContain(a);
    expect(actions.filter((a: string) => /^ssm:GetParameter|^kms:|^s3:/.test(a))).toEqual([]);
    expect(mocks.one("aws:iam/instanceProfile:InstanceProfile")).toMatchObject({
      name: "web-node",
      inputs: { role: "web-node-x1", tags: { env: "dev" } },
    });
    // Created under the caller, so their URNs are the caller's children.
    for (const key of [
      "aws:iam/role:Role::web-node",
      "aws:iam/rolePolicy:RolePolicy::web-node-ssm-agent",
      "aws:iam/rolePolicy:RolePolicy::web-node-params",
      "aws:iam/instanceProfile:InstanceProfile::web-node",
    ])
      expect((options.get(key)?.parent as any)?.__name).toBe("h");
  });
});
