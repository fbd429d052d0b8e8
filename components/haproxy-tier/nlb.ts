// The internet-facing NLB in front of the HAProxy nodes: TLS on 443 with a certificate (plain TCP on 80
// without), cross-zone, every node registered in one TCP target group whose health check asks HAProxy's
// health URI over HTTP: 503 there when the node has no usable service host, so such a node leaves the NLB.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadBalancerLogBucket } from "../_shared/logBucket";
import { defaultSslPolicy } from "../alb/rules";
import { nlbAccessLogDeliveryStatements } from "./rules";

export interface TierNlbArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  /** HAProxy's port on the nodes: the target port. */
  listenPort: number;
  /** The health URI on the nodes (host/haproxy/nodeUserData.ts nodeHealthCheck). */
  health: { port: number; path: string };
  /** Connections in flight to a replaced node get this long to finish. */
  deregistrationDelaySec: number;
  certificateArn: pulumi.Input<string> | undefined;
  deletionProtection: pulumi.Input<boolean>;
  /** Where the access logs go, or none. */
  accessLogs:
    | { retentionDays: pulumi.Input<number>; protect: boolean; serverAccessLogBucket: pulumi.Input<string> | undefined }
    | undefined;
  tags: Record<string, string>;
}

/**
 * The NLB and its listener `<name>-nlb`, the target group `<name>-haproxy`, which the nodes' Auto Scaling
 * group registers them in (nodes.ts), and with `accessLogs` the log bucket `<name>-nlb-logs`.
 */
export function tierNlb(
  name: string,
  a: TierNlbArgs,
  parent: pulumi.Resource,
): { nlb: aws.lb.LoadBalancer; targetGroup: aws.lb.TargetGroup } {
  const opts = { parent };
  // SSE-S3 (NLB log delivery also takes SSE-KMS, under a key whose policy admits the delivery service).
  const logs =
    a.accessLogs &&
    loadBalancerLogBucket(
      `${name}-nlb-logs`,
      {
        retentionDays: a.accessLogs.retentionDays,
        forceDestroy: !a.accessLogs.protect,
        serverAccessLogBucket: a.accessLogs.serverAccessLogBucket,
        deliveryStatements: nlbAccessLogDeliveryStatements,
        tags: a.tags,
      },
      { parent, protect: a.accessLogs.protect },
    );
  const nlb = new aws.lb.LoadBalancer(
    `${name}-nlb`,
    {
      loadBalancerType: "network",
      internal: false,
      subnets: a.subnetIds,
      securityGroups: [a.securityGroupId],
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: a.deletionProtection,
      // ELB checks it may write when logging is turned on: after the bucket's policy.
      ...(logs && { accessLogs: { bucket: logs.bucket.bucket, enabled: true, prefix: "" } }),
      tags: a.tags,
    },
    logs ? { parent, dependsOn: [logs.policy] } : opts,
  );
  const tg = new aws.lb.TargetGroup(
    `${name}-haproxy`,
    {
      vpcId: a.vpcId,
      targetType: "instance",
      protocol: "TCP",
      port: a.listenPort,
      deregistrationDelay: a.deregistrationDelaySec,
      connectionTermination: false,
      // HTTP check on the node's health URI, answered 200/503 by HAProxy itself (NLB HTTP checks: path and a
      // 200 matcher, timeout below the interval:
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html). With
      // every node unhealthy the NLB fails open and sends to all of them (same page), so a fleet-wide outage
      // still reaches HAProxy's own 503.
      healthCheck: {
        protocol: "HTTP",
        port: String(a.health.port),
        path: a.health.path,
        matcher: "200",
        interval: 10,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      tags: a.tags,
    },
    opts,
  );
  const forward = [{ type: "forward", targetGroupArn: tg.arn }];
  new aws.lb.Listener(
    `${name}-nlb`,
    a.certificateArn !== undefined
      ? {
          loadBalancerArn: nlb.arn,
          port: 443,
          protocol: "TLS",
          certificateArn: a.certificateArn,
          sslPolicy: defaultSslPolicy,
          defaultActions: forward,
        }
      : { loadBalancerArn: nlb.arn, port: 80, protocol: "TCP", defaultActions: forward },
    opts,
  );
  return { nlb, targetGroup: tg };
}
