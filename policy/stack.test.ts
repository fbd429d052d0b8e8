// The rules of policy/ over the real stack program: dev and prod, in both flavors, as `pulumi up` would register
// them (test/support/stackGraph.ts runs infra/stack.ts under the Pulumi mocks).
import { beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../contract/problem";
import { Flavor, StackName, stackGraph, stackVariants } from "../test/support/stackGraph";
import type { GraphResource } from "./graph";
import { checkNoWildcardSecretReads } from "./iam";
import { checkKeyPolicies, checkParameterKeys } from "./kms";
import { checkDefaultSecurityGroups, checkOpenEgress } from "./network";

const graphs = new Map<string, GraphResource[]>();
beforeAll(async () => {
  for (const [stack, flavor] of stackVariants) graphs.set(`${stack}/${flavor}`, await stackGraph(stack, flavor));
});

describe.each(stackVariants)("%s, %s flavor", (stack: StackName, flavor: Flavor) => {
  const graph = () => graphs.get(`${stack}/${flavor}`)!;

  it('no role can read SSM parameters, decrypt or get S3 objects on "*"', () => {
    expect(checkNoWildcardSecretReads(graph()).map(formatProblem)).toEqual([]);
  });

  it("every KMS key states its policy, none allows anyone or an unscoped service; the secrets key keeps decryption to SSM, the path, the hosts and the operators", () => {
    expect([...checkKeyPolicies(graph()), ...checkParameterKeys(graph())].map(formatProblem)).toEqual([]);
  });

  it("egress to anywhere is single TCP ports, never port 80; the created VPC's default security group has no rule", () => {
    expect([...checkOpenEgress(graph()), ...checkDefaultSecurityGroups(graph())].map(formatProblem)).toEqual([]);
  });

  it("the secrets key names exactly the instance roles that read the parameters", () => {
    const keyPolicy = JSON.parse(
      graph().find((r) => r.type === "aws:kms/key:Key" && r.name === "sample-api-key")!.inputs.policy,
    );
    const readers = keyPolicy.Statement.find((s: any) => s.Sid === "HostsDecryptOwnParametersViaSsm").Principal.AWS;
    const roles = flavor === "alb" ? ["sample-api-role"] : ["sample-api-hosts-role", "sample-api-node"];
    expect(readers).toEqual(roles.map((r) => `arn:aws:iam::123456789012:role/${r}-x1`));
  });
});
