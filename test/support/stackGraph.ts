// The resource graph of the real stack program under the Pulumi mocks, for the rules in policy/: every
// resource of dev or prod, in either flavor, with its resolved inputs (test/support/pulumi-mocks.ts records
// them the way the engine would send them to a provider), secrets unwrapped to their values, as a policy pack's
// stack validation sees them, and each with the id the mocks give it (`<name>-id`), by which other resources refer to it.
import { createStack } from "../../infra/stack";
import { stackFileConfig, tempBundle } from "./stack-config";
import { runProgram, setupMocks } from "./pulumi-mocks";

export type StackName = "dev" | "prod";
export type Flavor = "alb" | "haproxy";
export const stackVariants: readonly [StackName, Flavor][] = [
  ["dev", "alb"],
  ["dev", "haproxy"],
  ["prod", "alb"],
  ["prod", "haproxy"],
];

/** Every resource `pulumi up` of that stack file and flavor would register; `overrides` change config keys. */
export async function stackGraph(
  stack: StackName,
  loadBalancer: Flavor,
  overrides: Record<string, unknown> = {},
): Promise<{ type: string; name: string; inputs: Record<string, any>; id: string }[]> {
  const { config, secretKeys } = stackFileConfig(stack, { loadBalancer, ...overrides });
  const rec = await setupMocks({ config, secretKeys, stack });
  const bundle = tempBundle("console.log('graph')\n");
  try {
    await runProgram(() => ({ ...createStack({ bundlePath: bundle.file }) }));
  } finally {
    bundle.dispose();
  }
  return rec.resources.map(({ type, name, inputs }) => ({
    type,
    name,
    inputs: unwrapSecrets(inputs),
    id: `${name}-id`,
  }));
}

/** Pulumi's wire signature of a secret value (runtime/rpc.ts specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** `v` with every secret wrapper replaced by the value it wraps. */
export function unwrapSecrets(v: any): any {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    if (v[SIG_KEY] === SECRET_SIG) return unwrapSecrets(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}
