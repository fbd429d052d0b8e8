// The resource graph of the real stack program under the Pulumi mocks, for the rules in policy/: every
// resource of dev or prod, in either flavor, with its resolved inputs (test/support/pulumi-mocks.ts records
// them the way the engine would send them to a provider).
import { createStack } from "../../infra/stack";
import { stackFileConfig } from "../../infra/testkit";
import { runProgram, setupMocks } from "./pulumi-mocks";
import { scratchBundle } from "./urns";

export type StackName = "dev" | "prod";
export type Flavor = "alb" | "haproxy";
export const stackVariants: readonly [StackName, Flavor][] = [["dev", "alb"], ["dev", "haproxy"], ["prod", "alb"], ["prod", "haproxy"]];

/** Every resource `pulumi up` of that stack file and flavor would register; `overrides` change config keys. */
export async function stackGraph(stack: StackName, loadBalancer: Flavor, overrides: Record<string, unknown> = {}): Promise<{ type: string; name: string; inputs: Record<string, any> }[]> {
  const { config, secretKeys } = stackFileConfig(stack, { loadBalancer, ...overrides });
  const rec = await setupMocks({ config, secretKeys, stack });
  const bundle = scratchBundle();
  try {
    await runProgram(() => ({ ...createStack({ bundlePath: bundle.file }) }));
  } finally {
    bundle.dispose();
  }
  return rec.resources.map(({ type, name, inputs }) => ({ type, name, inputs }));
}
