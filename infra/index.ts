// Pulumi entry point (Pulumi.yaml `main: infra/index.ts`): the stack outputs are this module's exports.
import { main } from "./stack";

const outputs = main();

export const serviceUrl = outputs.serviceUrl;
export const serviceUrlNote = outputs.serviceUrlNote;
export const loadBalancerDnsName = outputs.loadBalancerDnsName;
export const autoScalingGroupName = outputs.autoScalingGroupName;
export const dashboardUrl = outputs.dashboardUrl;
export const logSearchUrl = outputs.logSearchUrl;
export const bundleUrl = outputs.bundleUrl;
export const imageId = outputs.imageId;
