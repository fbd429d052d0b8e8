// Pure rules of the HaproxyTier component (no Pulumi import).
import type { HaproxyTierArgs } from "./index";

export function checkHaproxyTierArgs(a: HaproxyTierArgs): string[] {
  const errors: string[] = [];
  const nodes = a.nodeCount ?? (a.env === "prod" ? 2 : 1);
  if (!Number.isInteger(nodes) || nodes < 1) errors.push(`nodeCount: ${nodes} must be a positive integer`);
  if (a.env === "prod" && nodes < 2) errors.push(`nodeCount: ${nodes} in prod; at least 2 so no HAProxy node is a single point of failure`);
  if (a.env === "prod" && a.privateSubnetIds.length < 2)
    errors.push(`privateSubnetIds: ${a.privateSubnetIds.length} in prod; at least 2 (two AZs) so one AZ can fail`);
  if (a.privateSubnetIds.length < 1) errors.push("privateSubnetIds: at least one subnet is required");
  if (a.publicSubnetIds.length < 1) errors.push("publicSubnetIds: at least one subnet is required for the NLB");
  if (!Number.isInteger(a.fleetInstanceCount) || a.fleetInstanceCount < 1)
    errors.push(`fleetInstanceCount: ${a.fleetInstanceCount} must be a positive integer`);
  if (a.env === "prod" && a.fleetInstanceCount < 2) errors.push(`fleetInstanceCount: ${a.fleetInstanceCount} in prod; at least 2`);
  const slots = a.serverSlots ?? 2 * a.fleetInstanceCount;
  if (slots < a.fleetInstanceCount) errors.push(`serverSlots: ${slots} must be at least fleetInstanceCount (${a.fleetInstanceCount})`);
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(a.env)) errors.push(`env: "${a.env}" must be lowercase letters, digits or dashes`);
  return errors;
}
