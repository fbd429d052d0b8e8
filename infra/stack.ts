// The stack program: validate the whole config, then compose the components (ALB or HAProxy flavor).
import { ServiceSettings } from "../contract/service";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Alb } from "../components/alb";
import { Bundle, fromProjectRoot } from "../components/bundle";
import { Fleet } from "../components/fleet";
import { serviceHostRole } from "../components/fleet/hostRole";
import { debianImage } from "../components/fleet/image";
import { HaproxyTier } from "../components/haproxy-tier";
import { renderSecretsScript, renderUserData } from "../host";
import { renderNodeUserData } from "../host/haproxy/nodeUserData";
import { Network } from "../components/network";
import { Observability } from "../components/observability";
import { Secrets } from "../components/secrets";
import { ConfigError, SecretKey, StackConfig, readPulumiConfig, readSecrets, serviceSettingsOf } from "./config";
import { haproxyListenPort, haproxyServerSlots, hostInputOf, nodeInputOf, runtimeArchOf } from "./host-input";
import { LoadBalancerAddress, serviceAddress } from "./service-address";
import { createDockerStack } from "./docker";
export { hostInputOf };

export interface StackOutputs {
  /** https://<domainName> (http:// without a certificate); without a domain, the load balancer's own URL. */
  serviceUrl: pulumi.Output<string>;
  /** What serviceUrl cannot give yet and how to fix it (no domain, or no record made by the stack); absent when nothing is missing. */
  serviceUrlNote?: pulumi.Output<string>;
  loadBalancerDnsName: pulumi.Output<string>;
  /** ALB flavor only: the HAProxy flavor runs a fixed fleet. */
  autoScalingGroupName?: pulumi.Output<string>;
  /** Target aws only, as the two below. */
  dashboardUrl?: pulumi.Output<string>;
  logSearchUrl?: pulumi.Output<string>;
  bundleUrl?: pulumi.Output<string>;
  /** The AMI; on target docker the service image. */
  imageId: pulumi.Output<string>;
}

export interface StackOptions {
  /** The built bundle; default the bundlePath config key. Relative paths are from the project root. */
  bundlePath?: string;
  config?: StackConfig;
  secrets?: Record<SecretKey, pulumi.Input<string>>;
}

export function createStack(opts: StackOptions = {}): StackOutputs {
  const c = opts.config ?? readPulumiConfig();
  // target docker: the same service on the local Docker engine; nothing below (AWS, secrets) applies there.
  if (c.target === "docker") return createDockerStack(c, opts);
  const secrets = opts.secrets ?? readSecrets();
  const name = c.serviceName;
  const service = serviceSettingsOf(c);
  const tags = { service: c.serviceName, env: c.env, "managed-by": "pulumi" };
  const stateful: pulumi.ComponentResourceOptions = { protect: c.protect };

  // On in prod unless set (infra/config-schema.ts envDefaults): the hosts' AWS traffic stays in the VPC, its flows
  // are recorded, the buckets log their access (review F9; Security Hub EC2.6, EC2.10, S3.9).
  const network = new Network(name, {
    ...(c.vpcId
      ? { vpcId: c.vpcId, publicSubnetIds: c.publicSubnetIds, privateSubnetIds: c.privateSubnetIds }
      : {
          cidrBlock: c.vpcCidr || "10.0.0.0/16",
          azCount: c.azCount,
          natGatewayPerAz: c.natGatewayPerAz,
          interfaceEndpoints: c.vpcInterfaceEndpoints,
        }),
    flowLogs: c.vpcFlowLogs,
    tags,
  });
  // The instance roles that read the releases and the secrets come from the flavor, after the keys they decrypt
  // with are declared (the roles' own policies name the bucket, the key and the parameters): each flavor sets them once.
  const [releaseReaders, setReleaseReaders] = pulumi.deferredOutput<string[]>();
  const [secretReaders, setSecretReaders] = pulumi.deferredOutput<string[]>();
  // From the project root, never the working directory: the runtime runs this program in infra/ (Pulumi.yaml `main`).
  const bundle = new Bundle(
    name,
    {
      bundlePath: fromProjectRoot(opts.bundlePath ?? c.bundlePath),
      // The hosts run the Node binary built for their image's architecture, which the instance type decides.
      architecture: runtimeArchOf(c.instanceType),
      noncurrentVersionDays: c.bundleRetentionDays,
      forceDestroy: !c.protect,
      readerRoleArns: releaseReaders,
      accessLogs: c.s3AccessLogs,
      tags,
    },
    stateful,
  );
  const secretParams = new Secrets(
    name,
    {
      service,
      env: c.env,
      datadogApiKey: secrets.datadogApiKey,
      papertrailDestination: secrets.papertrailDestination,
      readerRoleArns: secretReaders,
      operatorArns: c.secretsOperatorArns.length ? c.secretsOperatorArns : undefined,
      tags,
    },
    stateful,
  );
  const region = aws.getRegionOutput();
  const userData = pulumi
    .all([region.region, bundle.url, bundle.sha256, bundle.runtimeUrl, bundle.runtimeSha256])
    .apply(([r, bundleUrl, bundleSha256, runtimeUrl, runtimeSha256]) =>
      renderUserData(hostInputOf(c, { region: r, bundleUrl, bundleSha256, runtimeUrl, runtimeSha256 })),
    );
  const setReaders = (releases: pulumi.Output<string[]>, secrets: pulumi.Output<string[]>) => {
    setReleaseReaders(releases);
    setSecretReaders(secrets);
  };
  const shared = { c, name, service, tags, network, bundle, secretParams, setReaders, userData, region: region.region };
  // Papertrail's search of this service's lines (SyslogIdentifier = service name); on a host: /var/log/<service>/<service>.log.
  const logSearchUrl = pulumi.output(
    `https://my.papertrailapp.com/events?q=${encodeURIComponent(`program:${c.serviceName}`)}`,
  );
  const { loadBalancer, ...outputs } =
    c.loadBalancer === "haproxy" ? haproxyFlavor(shared) : albFlavor(shared, stateful);
  return { ...outputs, ...serviceAddress(c, name, loadBalancer), logSearchUrl };
}

type FlavorOutputs = Omit<StackOutputs, "logSearchUrl" | "serviceUrl" | "serviceUrlNote"> & {
  loadBalancer: LoadBalancerAddress;
};

interface Shared {
  c: StackConfig;
  name: string;
  service: ServiceSettings;
  tags: Record<string, string>;
  network: Network;
  bundle: Bundle;
  secretParams: Secrets;
  /** Call once with the ARNs of the instance roles that fetch the releases, and of those that read the secrets. */
  setReaders: (releases: pulumi.Output<string[]>, secrets: pulumi.Output<string[]>) => void;
  userData: pulumi.Output<string>;
  region: pulumi.Output<string>;
}

function albFlavor(
  { c, name, service, tags, network, bundle, secretParams, setReaders, userData }: Shared,
  stateful: pulumi.ComponentResourceOptions,
): FlavorOutputs {
  const alb = new Alb(
    name,
    {
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      certificateArn: c.certificateArn || undefined,
      allowedCidrs: c.allowedCidrs,
      service,
      idleTimeoutSec: c.idleTimeoutSec,
      deregistrationDelaySec: c.deregistrationDelaySec,
      slowStartSec: c.slowStartSec,
      deletionProtection: c.deletionProtection,
      accessLogRetentionDays: c.accessLogRetentionDays,
      forceDestroyLogs: !c.protect,
      serverAccessLogBucket: c.s3AccessLogs ? bundle.accessLogBucketName : undefined,
      tags,
      internetConnectivity: network.internetConnectivityEstablished,
    },
    stateful,
  );
  // The fleet's instance refresh needs the rollback alarms' names before the ASG exists, and the ASG CPU alarm
  // needs the ASG's name: the name reaches Observability as a deferred output, resolved (with its dependency on
  // the ASG) once the Fleet is built. Resource by resource there is no cycle: the rollback alarms, then the
  // ASG, then the CPU alarm, which is not a rollback alarm. No version: a new bundle must change the launch
  // template and nothing else (hosts tag their metrics with DD_VERSION).
  const [asgName, resolveAsgName] = pulumi.deferredOutput<string>();
  const observability = new Observability(name, {
    service,
    env: c.env,
    asgName,
    albArnSuffix: alb.loadBalancerArnSuffix,
    targetGroupArnSuffix: alb.targetGroupArnSuffix,
    expectedHealthyHosts: c.minSize,
    hostBootSec: c.healthCheckGracePeriodSec,
    notificationEmails: c.alertEmails,
    datadogNotifyHandles: c.datadogNotifyHandles,
    datadogSite: c.datadogSite,
    createDatadogIntegration: c.createDatadogIntegration,
    protectAlarmKey: c.protect,
  });

  const fleet = new Fleet(name, {
    vpcId: network.vpcId,
    subnetIds: network.privateSubnetIds,
    userData,
    amiId: c.amiId || undefined,
    amiName: c.amiName,
    instanceType: c.instanceType,
    architecture: runtimeArchOf(c.instanceType),
    rootVolumeGb: c.rootVolumeGb,
    minSize: c.minSize,
    maxSize: c.maxSize,
    service,
    targetGroupArn: alb.targetGroupArn,
    loadBalancerSecurityGroupId: alb.securityGroupId,
    loadBalancerArnSuffix: alb.loadBalancerArnSuffix,
    targetGroupArnSuffix: alb.targetGroupArnSuffix,
    requestsPerTarget: c.requestsPerTarget,
    healthCheckGracePeriodSec: c.healthCheckGracePeriodSec,
    lifecycleHookTimeoutSec: c.lifecycleHookTimeoutSec,
    instanceWarmupSec: c.instanceWarmupSec,
    checkpointPercentages: c.checkpointPercentages,
    checkpointDelaySec: c.checkpointDelaySec,
    maxHealthyPercentage: c.maxHealthyPercentage,
    rollbackAlarmNames: observability.rollbackAlarmNames,
    warmPool: c.warmPool,
    warmPoolMinSize: c.warmPoolMinSize,
    papertrailPort: secretParams.papertrailPort,
    // A new secret value replaces the hosts through the instance refresh, as a release does.
    secretsRevision: secretParams.revision,
    bundleBucketArn: bundle.bucketArn,
    parameterArns: secretParams.parameterArns,
    kmsKeyArn: secretParams.keyArn,
    tags,
    listenerArns: alb.listenerArns,
    privateEgress: network.privateEgressEstablished,
  });
  resolveAsgName(fleet.autoScalingGroupName);
  const fleetRole = pulumi.all([roleArnOf(fleet.roleName)]);
  setReaders(fleetRole, fleetRole);

  return {
    loadBalancer: { dnsName: alb.dnsName, zoneId: alb.zoneId, url: alb.url },
    loadBalancerDnsName: alb.dnsName,
    autoScalingGroupName: fleet.autoScalingGroupName,
    dashboardUrl: observability.dashboardUrl,
    bundleUrl: bundle.url,
    imageId: fleet.imageId,
  };
}

/** HAProxy flavor: an NLB in front of HAProxy nodes in front of a fixed fleet, rolled out host by host through SSM. */
function haproxyFlavor({
  c,
  name,
  service,
  tags,
  network,
  bundle,
  secretParams,
  setReaders,
  userData,
  region,
}: Shared): FlavorOutputs {
  const hosts = serviceHostRole(
    `${name}-hosts`,
    {
      bundleBucketArn: bundle.bucketArn,
      parameterArns: secretParams.parameterArns,
      kmsKeyArn: secretParams.keyArn,
      tags,
    },
    {},
  );
  const arch = runtimeArchOf(c.instanceType);
  const image = debianImage({ amiId: c.amiId || undefined, amiName: c.amiName, architecture: arch }, {});
  // Prod has no single point of failure, as its minSize >= 2 (infra/config.ts): two HAProxy nodes, and the tier checks it.
  const highAvailability = c.env === "prod";
  // The nodes' user-data and the tier's own haproxy.cfg use the same slots and port (infra/host-input.ts nodeInputOf).
  const serverSlots = haproxyServerSlots(c);
  const listenPort = haproxyListenPort;
  const nodeCount = highAvailability ? 2 : 1;
  // A node boots (apt, HAProxy, Datadog) and passes the NLB's check only once a service host is ready too.
  const nodeBootSec = 600;
  const nodeUserData = region.apply((r) => renderNodeUserData(nodeInputOf(c, r)));
  const tier = new HaproxyTier(name, {
    env: c.env,
    service,
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    amiId: image.id,
    rootDeviceName: image.rootDeviceName,
    highAvailability,
    nodeCount,
    nodeBootSec,
    nodeUserData,
    listenPort,
    serverSlots,
    fleetInstanceCount: c.minSize,
    fleetInstanceType: c.instanceType,
    fleetUserData: userData,
    fleetInstanceProfileName: hosts.profile.name,
    rootVolumeGb: c.rootVolumeGb,
    nodeParameterArns: secretParams.parameterArns,
    kmsKeyArn: secretParams.keyArn,
    allowedCidrs: c.allowedCidrs,
    papertrailPort: secretParams.papertrailPort,
    certificateArn: c.certificateArn || undefined,
    deletionProtection: c.deletionProtection,
    // Its own switch (on in prod), not s3AccessLogs: that is S3's log of requests to the buckets, which the NLB's
    // log bucket follows as the ALB's does.
    accessLogs: c.nlbAccessLogs,
    accessLogRetentionDays: c.accessLogRetentionDays,
    protectAccessLogs: c.protect,
    serverAccessLogBucket: c.s3AccessLogs ? bundle.accessLogBucketName : undefined,
    bundleUrl: bundle.url,
    bundleSha256: bundle.sha256,
    version: bundle.sha256.apply((s) => s.slice(0, 12)),
    // A new secret value re-runs the rollout (secrets, then a restart) host by host, and refreshes the nodes.
    secretsRevision: secretParams.revision,
    fleetSecretsScript: pulumi
      .all([region, bundle.url, bundle.sha256, bundle.runtimeUrl, bundle.runtimeSha256])
      .apply(([r, bundleUrl, bundleSha256, runtimeUrl, runtimeSha256]) =>
        renderSecretsScript(hostInputOf(c, { region: r, bundleUrl, bundleSha256, runtimeUrl, runtimeSha256 })),
      ),
  });
  // The HAProxy nodes read their boot parameters, not the releases.
  setReaders(pulumi.all([hosts.role.arn]), pulumi.all([hosts.role.arn, tier.nodeRoleArn]));
  const observability = new Observability(name, {
    service,
    env: c.env,
    expectedHealthyHosts: c.minSize,
    notificationEmails: c.alertEmails,
    nlbArnSuffix: tier.nlbArnSuffix,
    nlbTargetGroupArnSuffix: tier.targetGroupArnSuffix,
    expectedHealthyNodes: nodeCount,
    hostBootSec: nodeBootSec,
    datadogNotifyHandles: c.datadogNotifyHandles,
    datadogSite: c.datadogSite,
    createDatadogIntegration: c.createDatadogIntegration,
    protectAlarmKey: c.protect,
  });
  return {
    loadBalancer: { dnsName: tier.nlbDnsName, zoneId: tier.nlbZoneId, url: tier.url },
    loadBalancerDnsName: tier.nlbDnsName,
    dashboardUrl: observability.dashboardUrl,
    bundleUrl: bundle.url,
    imageId: image.id,
  };
}

/** The ARN of a role this stack created (no path), from its name, in the looked-up partition and account. */
function roleArnOf(roleName: pulumi.Input<string>): pulumi.Output<string> {
  const partition = aws.getPartitionOutput().partition;
  return pulumi.interpolate`arn:${partition}:iam::${aws.getCallerIdentityOutput().accountId}:role/${roleName}`;
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
