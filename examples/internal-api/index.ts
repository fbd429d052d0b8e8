// The orders API: an internal service on the HAProxy flavor, composed from the node-service-aws package as
// another team would use it. Its own network, bundle bucket, secrets, hosts and alarms; reachable only from
// `clientCidrs`; one alarm of its own beside the ones Observability makes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  Bundle,
  HaproxyTier,
  Network,
  Observability,
  Secrets,
  debianImage,
  defaultListenPort,
  renderNodeUserData,
  renderUserData,
  serviceHostRole,
  withHostDefaults,
  withServiceDefaults,
} from "node-service-aws";
import { fleetDnsNames } from "node-service-aws/contract";

const config = new pulumi.Config();
const env = config.require("env");
const hosts = config.requireNumber("hosts");
const clientCidrs = config.requireObject<string[]>("clientCidrs");
const service = withServiceDefaults({ name: "orders-api", port: 8080, drainDelayMs: 5_000 });
const tags = { service: service.name, env, team: "orders", "managed-by": "pulumi" };
const serverSlots = 2 * hosts;

const network = new Network(service.name, { cidrBlock: "10.42.0.0/16", azCount: 2, tags });
// Relative to this project's folder (Pulumi.yaml), wherever `pulumi up` runs.
const bundle = new Bundle(service.name, { bundlePath: "service/server.js", forceDestroy: env !== "prod", tags });
const secrets = new Secrets(service.name, {
  service,
  env,
  datadogApiKey: config.requireSecret("datadogApiKey"),
  papertrailDestination: config.requireSecret("papertrailDestination"),
  tags,
});
const role = serviceHostRole(
  `${service.name}-hosts`,
  { bundleBucketArn: bundle.bucketArn, parameterArns: secrets.parameterArns, kmsKeyArn: secrets.keyArn, tags },
  {},
);
const image = debianImage({}, {});
const region = aws.getRegionOutput().region;

const tier = new HaproxyTier(service.name, {
  env,
  service,
  vpcId: network.vpcId,
  publicSubnetIds: network.publicSubnetIds,
  privateSubnetIds: network.privateSubnetIds,
  amiId: image.id,
  rootDeviceName: image.rootDeviceName,
  allowedCidrs: clientCidrs,
  fleetInstanceCount: hosts,
  serverSlots,
  fleetInstanceProfileName: role.profile.name,
  fleetUserData: pulumi
    .all([region, bundle.url, bundle.sha256, bundle.runtimeUrl, bundle.runtimeSha256, bundle.runtimeVersion])
    .apply(([r, url, sha256, runtimeUrl, runtimeSha256, runtimeVersion]) =>
      renderUserData(
        withHostDefaults({
          env,
          service,
          region: r,
          version: sha256.slice(0, 12),
          bundle: { url, sha256 },
          runtime: { url: runtimeUrl, sha256: runtimeSha256, version: runtimeVersion },
        }),
      ),
    ),
  nodeUserData: region.apply((r) =>
    renderNodeUserData({
      env,
      service,
      region: r,
      fleetDnsName: fleetDnsNames(service.name, env).fleet,
      serverSlots,
      listenPort: defaultListenPort,
    }),
  ),
  nodeParameterArns: secrets.parameterArns,
  kmsKeyArn: secrets.keyArn,
  papertrailPort: secrets.papertrailPort,
  bundleUrl: bundle.url,
  bundleSha256: bundle.sha256,
  version: bundle.sha256.apply((s) => s.slice(0, 12)),
});

const observability = new Observability(service.name, {
  service,
  env,
  expectedHealthyHosts: hosts,
  nlbArnSuffix: tier.nlbArnSuffix,
  nlbTargetGroupArnSuffix: tier.targetGroupArnSuffix,
  notificationEmails: [config.require("alertEmail")],
});

// The team's own alarm: clients see resets when the NLB has no healthy node to send a new flow to.
new aws.cloudwatch.MetricAlarm(`${service.name}-nlb-resets`, {
  alarmDescription: `${service.name} (${env}): the NLB reset client connections; check the HAProxy nodes' health`,
  namespace: "AWS/NetworkELB",
  metricName: "TCP_ELB_Reset_Count",
  dimensions: { LoadBalancer: tier.nlbArnSuffix },
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 10,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  alarmActions: [observability.topicArn],
  okActions: [observability.topicArn],
  tags,
});

export const url = tier.url;
export const dashboardUrl = observability.dashboardUrl;
export const fleetDnsName = tier.fleetDnsName;
