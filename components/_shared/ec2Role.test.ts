import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { MockRecorder, runProgram, setupMocks } from "../../test/support/pulumi-mocks";
import { ec2Role } from "./ec2Role";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
});
beforeEach(() => {
  mocks.clear();
});

class Holder extends pulumi.ComponentResource {
  constructor(name: string, build: (parent: pulumi.Resource) => void) {
    super("test:index:Holder", name, {}, {});
    build(this);
    this.registerOutputs({});
  }
}

describe("ec2Role", () => {
  it("EC2 may assume it; SSM core in the looked-up partition; the given inline policy; a profile; parts named as asked", async () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "*" }] });
    const { options } = await runProgram(() => {
      new Holder("h", (parent) => ec2Role("web-node", { policy, description: "nodes", tags: { env: "dev" }, names: { policy: "web-node-params" } }, { parent }));
      return {};
    });
    const role = mocks.one("aws:iam/role:Role");
    expect(role.name).toBe("web-node");
    expect(role.inputs).toMatchObject({ description: "nodes", tags: { env: "dev" } });
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    const attachment = mocks.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attachment).toMatchObject({ name: "web-node", inputs: { role: "web-node-x1", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" } });
    expect(mocks.calls.map((c) => c.token)).toContain("aws:index/getPartition:getPartition");
    expect(mocks.one("aws:iam/rolePolicy:RolePolicy")).toMatchObject({ name: "web-node-params", inputs: { role: "web-node-id", policy } });
    expect(mocks.one("aws:iam/instanceProfile:InstanceProfile")).toMatchObject({ name: "web-node", inputs: { role: "web-node-x1", tags: { env: "dev" } } });
    // Created under the caller, so their URNs are the caller's children.
    for (const type of ["aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/instanceProfile:InstanceProfile"])
      expect((options.get(`${type}::${mocks.one(type).name}`)?.parent as any)?.__name).toBe("h");
  });
});
