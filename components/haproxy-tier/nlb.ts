// The internet-facing NLB in front of the HAProxy nodes: TLS on 443 with a certificate (plain TCP on 80
// without), cross-zone, every node registered in one TCP target group checked on HAProxy's port.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { defaultSslPolicy } from "../alb/rules";

export interface TierNlbArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  nodes: aws.ec2.Instance[];
  /** HAProxy's port on the nodes: target and health-check port. */
  listenPort: number;
  /** Connections in flight to a replaced node get this long to finish. */
  deregistrationDelaySec: number;
  certificateArn: pulumi.Input<string> | undefined;
  deletionProtection: pulumi.Input<boolean>;
  tags: Record<string, string>;
}

/** The NLB and its listener `<name>-nlb`, the target group `<name>-haproxy`, one attachment `<name>-node-<i>` per node. */
export function tierNlb(name: string, a: TierNlbArgs, parent: pulumi.Resource): aws.lb.LoadBalancer {
  const opts = { parent };
  const nlb = new aws.lb.LoadBalancer(`${name}-nlb`, {
    loadBalancerType: "network",
    internal: false,
    subnets: a.subnetIds,
    securityGroups: [a.securityGroupId],
    enableCrossZoneLoadBalancing: true,
    enableDeletionProtection: a.deletionProtection,
    tags: a.tags,
  }, opts);
  const tg = new aws.lb.TargetGroup(`${name}-haproxy`, {
    vpcId: a.vpcId,
    targetType: "instance",
    protocol: "TCP",
    port: a.listenPort,
    deregistrationDelay: a.deregistrationDelaySec,
    connectionTermination: false,
    healthCheck: { protocol: "TCP", port: String(a.listenPort), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
    tags: a.tags,
  }, opts);
  a.nodes.forEach((node, i) => {
    new aws.lb.TargetGroupAttachment(`${name}-node-${i}`, { targetGroupArn: tg.arn, targetId: node.id, port: a.listenPort }, opts);
  });
  const forward = [{ type: "forward", targetGroupArn: tg.arn }];
  new aws.lb.Listener(`${name}-nlb`, a.certificateArn !== undefined
    ? { loadBalancerArn: nlb.arn, port: 443, protocol: "TLS", certificateArn: a.certificateArn, sslPolicy: defaultSslPolicy, defaultActions: forward }
    : { loadBalancerArn: nlb.arn, port: 80, protocol: "TCP", defaultActions: forward }, opts);
  return nlb;
}
