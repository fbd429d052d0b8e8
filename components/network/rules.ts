// Pure rules of the Network component (no Pulumi import).
import type { NetworkArgs } from "./index";

/** Problems with a NetworkArgs combination, each naming the argument and the fix. */
export function checkNetworkArgs(a: NetworkArgs): string[] {
  const errors: string[] = [];
  const existing = a.vpcId !== undefined;
  if (existing && a.cidrBlock !== undefined)
    errors.push("vpcId and cidrBlock are mutually exclusive: give vpcId with its subnets to use a VPC, or cidrBlock to create one");
  if (existing && (a.publicSubnetIds === undefined || a.privateSubnetIds === undefined))
    errors.push("vpcId needs publicSubnetIds and privateSubnetIds (one per AZ, at least 2 each)");
  if (!existing && (a.publicSubnetIds !== undefined || a.privateSubnetIds !== undefined))
    errors.push("publicSubnetIds/privateSubnetIds need vpcId: give the VPC they belong to, or drop them to create a VPC");
  if (existing && a.azCount !== undefined) errors.push("azCount applies only when creating a VPC: drop it when vpcId is given");
  if (a.azCount !== undefined && (!Number.isInteger(a.azCount) || a.azCount < 2 || a.azCount > 6))
    errors.push(`azCount: ${a.azCount} must be an integer from 2 to 6 (an ASG across one AZ is not highly available)`);
  return errors;
}

/** The index-th subnet of size /(prefix+newBits) inside `cidr`. */
export function subnetCidr(cidr: string, newBits: number, index: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`cidrBlock: "${cidr}" is not an IPv4 CIDR like 10.0.0.0/16`);
  const prefix = Number(m[5]);
  const size = prefix + newBits;
  if (size > 28 || index >= 2 ** newBits) throw new Error(`cidrBlock: ${cidr} is too small for ${index + 1} subnets of /${size}`);
  const base = (((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
  const ip = (base + index * 2 ** (32 - size)) >>> 0;
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/${size}`;
}
