// Pure rules of the Network component (no Pulumi import).
import { FieldNames, Problem, ownNames } from "../../contract/problem";
import type { NetworkArgs } from "./index";

/** The retention periods CloudWatch Logs accepts, days (PutRetentionPolicy). */
export const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Problems with a NetworkArgs combination, each with the argument to change and the fix.
 * `names` is how the caller names the arguments a message mentions (default: the NetworkArgs names).
 */
export function checkNetworkArgs(a: NetworkArgs, names: FieldNames = ownNames): Problem[] {
  const problems: Problem[] = [];
  const problem = (field: keyof NetworkArgs, message: string) => problems.push({ field, message });
  const [vpcId, cidrBlock, publicIds, privateIds] = [
    names("vpcId"),
    names("cidrBlock"),
    names("publicSubnetIds"),
    names("privateSubnetIds"),
  ];
  const existing = a.vpcId !== undefined;
  if (existing && a.cidrBlock !== undefined)
    problem(
      "vpcId",
      `is mutually exclusive with ${cidrBlock}: give ${vpcId} with its subnets to use a VPC, or ${cidrBlock} to create one`,
    );
  if (existing && (a.publicSubnetIds === undefined || a.privateSubnetIds === undefined))
    problem("vpcId", `needs ${publicIds} and ${privateIds} (one per AZ, at least 2 each)`);
  if (!existing && (a.publicSubnetIds !== undefined || a.privateSubnetIds !== undefined))
    problem(
      a.publicSubnetIds !== undefined ? "publicSubnetIds" : "privateSubnetIds",
      `needs ${vpcId}: give the VPC the subnets belong to, or drop ${publicIds}/${privateIds} to create a VPC`,
    );
  if (existing && a.azCount !== undefined)
    problem("azCount", `applies only when creating a VPC: drop it when ${vpcId} is given`);
  if (existing && (a.interfaceEndpoints || a.interfaceEndpointServices !== undefined))
    problem(
      a.interfaceEndpoints ? "interfaceEndpoints" : "interfaceEndpointServices",
      `applies only when creating a VPC: a given VPC's route tables and endpoints are its owner's`,
    );
  const days = a.flowLogRetentionDays;
  if (days !== undefined && !logRetentionDays.includes(days))
    problem(
      "flowLogRetentionDays",
      `${days} is not a CloudWatch Logs retention: one of ${logRetentionDays.join(", ")}`,
    );
  if (a.azCount !== undefined && (!Number.isInteger(a.azCount) || a.azCount < 2 || a.azCount > 6))
    problem("azCount", `${a.azCount} must be an integer from 2 to 6 (an ASG across one AZ is not highly available)`);
  return problems;
}

/** The index-th subnet of size /(prefix+newBits) inside `cidr`. */
export function subnetCidr(cidr: string, newBits: number, index: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`cidrBlock: "${cidr}" is not an IPv4 CIDR like 10.0.0.0/16`);
  const prefix = Number(m[5]);
  const size = prefix + newBits;
  if (size > 28 || index >= 2 ** newBits)
    throw new Error(`cidrBlock: ${cidr} is too small for ${index + 1} subnets of /${size}`);
  const base =
    (((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0) &
    (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
  const ip = (base + index * 2 ** (32 - size)) >>> 0;
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/${size}`;
}
