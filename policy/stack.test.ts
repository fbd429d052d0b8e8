// The rules of policy/ over the real stack program: dev and prod, in both flavors, as `pulumi up` would register
// them (test/support/stackGraph.ts runs infra/stack.ts under the Pulumi mocks).
import { beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../contract/problem";
import { Flavor, StackName, stackGraph, stackVariants } from "../test/support/stackGraph";
import type { GraphResource } from "./graph";
import { checkNoWildcardSecretReads } from "./iam";

const graphs = new Map<string, GraphResource[]>();
beforeAll(async () => {
  for (const [stack, flavor] of stackVariants) graphs.set(`${stack}/${flavor}`, await stackGraph(stack, flavor));
});

describe.each(stackVariants)("%s, %s flavor", (stack: StackName, flavor: Flavor) => {
  const graph = () => graphs.get(`${stack}/${flavor}`)!;

  it("no role can read SSM parameters, decrypt or get S3 objects on \"*\"", () => {
    expect(checkNoWildcardSecretReads(graph()).map(formatProblem)).toEqual([]);
  });
});
