// The stack program: validate the whole config, then compose the components (ALB or HAProxy flavor).
import { ServiceSettings } from "../contract/service";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Alb } from "../components/alb";
import { Bundle } from "../components/bundle";
import { Fleet } from "../components/fleet";
import { serviceHostRole } from "../components/fleet/hostRole";
import { debianImage } from "../components/fleet/image";
import { HaproxyTier } from "../components/haproxy-tier";
import { renderUserData } from "../host";
import { renderNodeUserData } from "../host/haproxy/nodeUserData";
import { Network } from "../components/network";
import { Observability } from "../components/observability";
import { Secrets } from "../components/secrets";
import { ConfigError, SecretKey, StackConfig, readPulumiConfig, readSecrets, serviceSettingsOf } from "./config";
import { haproxyListenPort, haproxyServerSlots, hostInputOf, nodeInputOf } from "./host-input";
export { hostInputOf };

export interface StackOutputs {
  serviceUrl: pulumi.Output<string>;
  loadBalancerDnsName: pulumi.Output<string>;
  /** ALB flavor only: the HAProxy flavor runs a fixed fleet. */
  autoScalingGroupName?: pulumi.Output<string>;
  dashboardUrl: pulumi.Output<string>;
  logSearchUrl: pulumi.Output<string>;
  bundleUrl: pulumi.Output<string>;
  imageId: pulumi.Output<string>;
}

export interface StackOptions {
  /** The built bundle; default the bundlePath config key. */
  bundlePath?: string;
  config?: StackConfig;
  secrets?: Record<SecretKey, pulumi.Input<string>>;
}

export function createStack(opts: StackOptions = {}): StackOutputs {
  const c = opts.config ?? readPulumiConfig();
  const secrets = opts.secrets ?? readSecrets();
  const name = c.serviceName;
  const service = serviceSettingsOf(c);
  const tags = { service: c.serviceName, env: c.env, "managed-by": "pulumi" };
  const stateful: pulumi.ComponentResourceOptions = { protect: c.protect };

  const network = new Network(name, {
    ...(c.vpcId
      ? { vpcId: c.vpcId, publicSubnetIds: c.publicSubnetIds, privateSubnetIds: c.privateSubnetIds }
      : { cidrBlock: c.vpcCidr || "10.0.0.0/16", azCount: c.azCount, natGatewayPerAz: c.natGatewayPerAz }),
    tags,
  });
  const bundle = new Bundle(name, {
    bundlePath: opts.bundlePath ?? c.bundlePath, noncurrentVersionDays: c.bundleRetentionDays, forceDestroy: !c.protect, tags,
  }, stateful);
  const secretParams = new Secrets(name, {
    service, env: c.env, datadogApiKey: secrets.datadogApiKey, papertrailDestination: secrets.papertrailDestination, tags,
  }, stateful);
  const region = aws.getRegionOutput();
  const userData = pulumi.all([region.region, bundle.url, bundle.sha256]).apply(([r, bundleUrl, bundleSha256]) =>
    renderUserData(hostInputOf(c, { region: r, bundleUrl, bundleSha256 })));
  const shared = { c, name, service, tags, network, bundle, secretParams, userData, region: region.region };
  // Papertrail's search of this service's lines (SyslogIdentifier = service name); on a host: /var/log/<service>/<service>.log.
  const logSearchUrl = pulumi.output(`https://my.papertrailapp.com/events?q=${encodeURIComponent(`program:${c.serviceName}`)}`);
  return c.loadBalancer === "haproxy" ? { ...haproxyFlavor(shared), logSearchUrl } : { ...albFlavor(shared, stateful), logSearchUrl };
}

interface Shared {
  c: StackConfig;
  name: string;
  service: ServiceSettings;
  tags: Record<string, string>;
  network: Network;
  bundle: Bundle;
  secretParams: Secrets;
  userData: pulumi.Output<string>;
  region: pulumi.Output<string>;
}

function albFlavor({ c, name, service, tags, network, bundle, secretParams, userData }: Shared, stateful: pulumi.ComponentResourceOptions): Omit<StackOutputs, "logSearchUrl"> {
  const alb = new Alb(name, {
    vpcId: network.vpcId, subnetIds: network.publicSubnetIds, certificateArn: c.certificateArn || undefined, allowedCidrs: c.allowedCidrs,
    service, idleTimeoutSec: c.idleTimeoutSec, deregistrationDelaySec: c.deregistrationDelaySec, slowStartSec: c.slowStartSec,
    deletionProtection: c.deletionProtection, accessLogRetentionDays: c.accessLogRetentionDays, forceDestroyLogs: !c.protect, tags,
  }, stateful);
  // No ASG name (the fleet's instance refresh needs the alarm names first: a cycle) and no version (a new
  // bundle must change the launch template and nothing else; hosts tag their metrics with DD_VERSION).
  const observability = new Observability(name, {
    service, env: c.env,
    albArnSuffix: alb.loadBalancerArnSuffix, targetGroupArnSuffix: alb.targetGroupArnSuffix,
    expectedHealthyHosts: c.minSize, notificationEmails: c.alertEmails, datadogNotifyHandles: c.datadogNotifyHandles,
    datadogSite: c.datadogSite, createDatadogIntegration: c.createDatadogIntegration,
  });

  const fleet = new Fleet(name, {
    vpcId: network.vpcId, subnetIds: network.privateSubnetIds, userData,
    amiId: c.amiId || undefined, amiName: c.amiName, instanceType: c.instanceType, rootVolumeGb: c.rootVolumeGb,
    minSize: c.minSize, maxSize: c.maxSize, service,
    targetGroupArn: alb.targetGroupArn, loadBalancerSecurityGroupId: alb.securityGroupId,
    loadBalancerArnSuffix: alb.loadBalancerArnSuffix, targetGroupArnSuffix: alb.targetGroupArnSuffix, requestsPerTarget: c.requestsPerTarget,
    healthCheckGracePeriodSec: c.healthCheckGracePeriodSec, instanceWarmupSec: c.instanceWarmupSec,
    checkpointPercentages: c.checkpointPercentages, checkpointDelaySec: c.checkpointDelaySec, maxHealthyPercentage: c.maxHealthyPercentage,
    rollbackAlarmNames: observability.rollbackAlarmNames, warmPool: c.warmPool, warmPoolMinSize: c.warmPoolMinSize,
    bundleBucketArn: bundle.bucketArn, parameterArns: secretParams.parameterArns, kmsKeyArn: secretParams.keyArn, tags,
  });

  return {
    serviceUrl: alb.url,
    loadBalancerDnsName: alb.dnsName,
    autoScalingGroupName: fleet.autoScalingGroupName,
    dashboardUrl: observability.dashboardUrl,
    bundleUrl: bundle.url,
    imageId: fleet.imageId,
  };
}

/** HAProxy flavor: an NLB in front of HAProxy nodes in front of a fixed fleet, rolled out host by host through SSM. */
function haproxyFlavor({ c, name, service, tags, network, bundle, secretParams, userData, region }: Shared): Omit<StackOutputs, "logSearchUrl"> {
  const hosts = serviceHostRole(`${name}-hosts`, { bundleBucketArn: bundle.bucketArn, parameterArns: secretParams.parameterArns, kmsKeyArn: secretParams.keyArn, tags }, {});
  const image = debianImage({ amiId: c.amiId || undefined, amiName: c.amiName }, {});
  // Prod has no single point of failure, as its minSize >= 2 (infra/config.ts): two HAProxy nodes, and the tier checks it.
  const highAvailability = c.env === "prod";
  // The nodes' user-data and the tier's own haproxy.cfg use the same slots and port.
  const serverSlots = haproxyServerSlots(c);
  const listenPort = haproxyListenPort;
  const nodeUserData = region.apply((r) => renderNodeUserData(nodeInputOf(c, r)));
  const tier = new HaproxyTier(name, {
    env: c.env, service, vpcId: network.vpcId, publicSubnetIds: network.publicSubnetIds, privateSubnetIds: network.privateSubnetIds,
    amiId: image.id, highAvailability, nodeCount: highAvailability ? 2 : 1, nodeUserData, listenPort, serverSlots,
    fleetInstanceCount: c.minSize, fleetInstanceType: c.instanceType, fleetUserData: userData, fleetInstanceProfileName: hosts.profile.name,
    rootVolumeGb: c.rootVolumeGb, nodeParameterArns: secretParams.parameterArns, allowedCidrs: c.allowedCidrs,
    certificateArn: c.certificateArn || undefined, deletionProtection: c.deletionProtection,
    bundleUrl: bundle.url, bundleSha256: bundle.sha256, version: bundle.sha256.apply((s) => s.slice(0, 12)),
  });
  const observability = new Observability(name, {
    service, env: c.env, expectedHealthyHosts: c.minSize, notificationEmails: c.alertEmails,
    datadogNotifyHandles: c.datadogNotifyHandles, datadogSite: c.datadogSite, createDatadogIntegration: c.createDatadogIntegration,
  });
  return { serviceUrl: tier.url, loadBalancerDnsName: tier.nlbDnsName, dashboardUrl: observability.dashboardUrl, bundleUrl: bundle.url, imageId: image.id };
}

/** Entry for the Pulumi CLI: a config mistake is one message, not a stack trace. */
export function main(): StackOutputs {
  try {
    return createStack();
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n  ${e.errors.join("\n  ")}`);
    throw e;
  }
}
