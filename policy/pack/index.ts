// Every policy of the pack, as plain objects: policy/index.ts hands them to the PolicyPack (which serves them to
// the Pulumi CLI); the tests call each one's validateResource / validateStack directly.
import type { PackPolicy } from "./common";
import { computePolicies } from "./compute";
import { dataPolicies } from "./data";
import { loadBalancingPolicies } from "./loadBalancing";
import { networkPolicies } from "./network";
import { secretPolicies } from "./secrets";

export type { PackPolicy } from "./common";

export const policies: PackPolicy[] = [
  ...computePolicies,
  ...networkPolicies,
  ...loadBalancingPolicies,
  ...dataPolicies,
  ...secretPolicies,
];

/** The rules that apply in prod only (pack config `env`, default prod). */
export const prodOnly = policies.filter((p) => p.tags?.includes("prod-only")).map((p) => p.name);
