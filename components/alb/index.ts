// Application Load Balancer in front of the fleet: listeners, target group with the readiness
// check, access logs, and the security group the instances accept traffic from. The timing rules
// between LB and service (checkLoadBalancerTimings) are enforced here, not only documented.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { privateBucket } from "../_shared/privateBucket";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { serviceDefaults } from "../../contract/service";
import { accessLogDeliveryStatements, checkAlbTimings, defaultSslPolicy } from "./rules";
export { accessLogDeliveryStatements, checkAlbTimings, defaultSslPolicy };

export interface AlbArgs {
  vpcId: pulumi.Input<string>;
  /** Public subnets, one per AZ (at least 2). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** ACM certificate: HTTPS on 443 and a redirect on 80. Without it, plain HTTP on 80 (dev only). */
  certificateArn?: pulumi.Input<string>;
  /** IPv4 CIDRs allowed to reach 80/443. Default 0.0.0.0/0. */
  allowedCidrs?: pulumi.Input<string>[];
  /** The service's port (ServiceSettings.port). */
  servicePort?: pulumi.Input<number>;
  /** Seconds an idle client connection is kept; must stay below the service's keepAliveTimeoutMs. Default 60. */
  idleTimeoutSec?: pulumi.Input<number>;
  keepAliveTimeoutMs?: pulumi.Input<number>;
  drainDelayMs?: pulumi.Input<number>;
  shutdownTimeoutMs?: pulumi.Input<number>;
  /** Above drainDelayMs, below the systemd stop timeout. Default 30. */
  deregistrationDelaySec?: pulumi.Input<number>;
  /** Ramp-up of a new target's share of requests (0 or 30-900). Default 30. */
  slowStartSec?: pulumi.Input<number>;
  /** Readiness endpoint of the service. Default /readyz. */
  healthCheckPath?: pulumi.Input<string>;
  sslPolicy?: pulumi.Input<string>;
  /** monitor, defensive or strictest. Default defensive (AWS's recommendation). */
  desyncMitigationMode?: pulumi.Input<string>;
  deletionProtection?: pulumi.Input<boolean>;
  /** Days access logs are kept. Default 30. */
  accessLogRetentionDays?: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the access-log bucket (dev). */
  forceDestroyLogs?: pulumi.Input<boolean>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class Alb extends pulumi.ComponentResource {
  readonly loadBalancerArn: pulumi.Output<string>;
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly zoneId: pulumi.Output<string>;
  readonly targetGroupArn: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly accessLogBucket: pulumi.Output<string>;
  /** https://<dns> with a certificate, http://<dns> without. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: AlbArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Alb"), name, {}, withFormerType("node-service:alb:Alb", opts));
    const idleTimeoutSec = args.idleTimeoutSec ?? 60;
    const deregistrationDelaySec = args.deregistrationDelaySec ?? 30;
    const slowStartSec = args.slowStartSec ?? 30;
    const timings = pulumi.all([idleTimeoutSec, args.keepAliveTimeoutMs ?? serviceDefaults.keepAliveTimeoutMs, args.drainDelayMs ?? serviceDefaults.drainDelayMs,
      args.shutdownTimeoutMs ?? serviceDefaults.shutdownTimeoutMs, deregistrationDelaySec, slowStartSec]);
    const plain = [idleTimeoutSec, args.keepAliveTimeoutMs, args.drainDelayMs, args.shutdownTimeoutMs, deregistrationDelaySec, slowStartSec].every((v) => v === undefined || typeof v === "number");
    const check = ([idle, keepAlive, drain, shutdown, dereg, slow]: number[]) => {
      const errors = checkAlbTimings({ idleTimeoutSec: idle!, keepAliveTimeoutMs: keepAlive!, drainDelayMs: drain!, shutdownTimeoutMs: shutdown!, deregistrationDelaySec: dereg!, slowStartSec: slow! });
      if (errors.length) throw new pulumi.RunError(`Alb ${name}: ${errors.join("; ")}`);
    };
    // Refuse at once when the values are known now; otherwise as soon as they resolve.
    if (plain) check([idleTimeoutSec, args.keepAliveTimeoutMs ?? serviceDefaults.keepAliveTimeoutMs, args.drainDelayMs ?? serviceDefaults.drainDelayMs, args.shutdownTimeoutMs ?? serviceDefaults.shutdownTimeoutMs, deregistrationDelaySec, slowStartSec] as number[]);
    const checkedIdle = timings.apply((t) => { check(t); return t[0]!; });

    const https = args.certificateArn !== undefined;
    const port = args.servicePort ?? serviceDefaults.port;
    const region = aws.getRegionOutput({}, { parent: this });
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });

    const { bucket: logs, policy: logsPolicy } = privateBucket(`${name}-logs`, {
      forceDestroy: args.forceDestroyLogs ?? false,
      lifecycleRules: [{ id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: args.accessLogRetentionDays ?? 30 } }],
      policyStatements: (arn) => pulumi.all([region.region, caller.accountId, partition.partition])
        .apply(([r, acct, p]) => accessLogDeliveryStatements(arn, r, acct, p)),
      tags: args.tags,
    }, { parent: this });

    const sg = new aws.ec2.SecurityGroup(`${name}-lb`, { vpcId: args.vpcId, description: "Load balancer: HTTP(S) from the allowed CIDRs", tags: args.tags }, { parent: this });
    const cidrs = args.allowedCidrs ?? ["0.0.0.0/0"];
    const listenPorts = https ? [80, 443] : [80];
    cidrs.forEach((cidr, i) => {
      for (const p of listenPorts)
        new aws.vpc.SecurityGroupIngressRule(`${name}-lb-${p}-${i}`, {
          securityGroupId: sg.id, ipProtocol: "tcp", fromPort: p, toPort: p, cidrIpv4: cidr,
          description: p === 443 ? "HTTPS from allowed clients" : https ? "HTTP from allowed clients (redirected to HTTPS)" : "HTTP from allowed clients",
        }, { parent: this });
    });

    const lb = new aws.lb.LoadBalancer(`${name}`, {
      loadBalancerType: "application", internal: false, securityGroups: [sg.id], subnets: args.subnetIds,
      idleTimeout: checkedIdle, dropInvalidHeaderFields: true, desyncMitigationMode: args.desyncMitigationMode ?? "defensive",
      enableDeletionProtection: args.deletionProtection ?? false, enableHttp2: true,
      accessLogs: { bucket: logs.bucket, enabled: true, prefix: "" }, tags: args.tags,
    }, { parent: this, dependsOn: [logsPolicy] });

    const tg = new aws.lb.TargetGroup(`${name}-tg`, {
      vpcId: args.vpcId, port, protocol: "HTTP", targetType: "instance",
      deregistrationDelay: deregistrationDelaySec, slowStart: slowStartSec,
      healthCheck: {
        enabled: true, path: args.healthCheckPath ?? "/readyz", port: "traffic-port", protocol: "HTTP", matcher: "200",
        interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 2,
      },
      tags: args.tags,
    }, { parent: this });

    if (https) {
      new aws.lb.Listener(`${name}-https`, {
        loadBalancerArn: lb.arn, port: 443, protocol: "HTTPS", sslPolicy: args.sslPolicy ?? defaultSslPolicy, certificateArn: args.certificateArn,
        defaultActions: [{ type: "forward", targetGroupArn: tg.arn }], tags: args.tags,
      }, { parent: this });
      new aws.lb.Listener(`${name}-http`, {
        loadBalancerArn: lb.arn, port: 80, protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }], tags: args.tags,
      }, { parent: this });
    } else {
      new aws.lb.Listener(`${name}-http`, {
        loadBalancerArn: lb.arn, port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: tg.arn }], tags: args.tags,
      }, { parent: this });
    }

    this.loadBalancerArn = lb.arn;
    this.loadBalancerArnSuffix = lb.arnSuffix;
    this.dnsName = lb.dnsName;
    this.zoneId = lb.zoneId;
    this.targetGroupArn = tg.arn;
    this.targetGroupArnSuffix = tg.arnSuffix;
    this.securityGroupId = sg.id;
    this.accessLogBucket = logs.bucket;
    this.url = pulumi.interpolate`${https ? "https" : "http"}://${lb.dnsName}`;
    this.registerOutputs({
      loadBalancerArn: this.loadBalancerArn, loadBalancerArnSuffix: this.loadBalancerArnSuffix, dnsName: this.dnsName, zoneId: this.zoneId,
      targetGroupArn: this.targetGroupArn, targetGroupArnSuffix: this.targetGroupArnSuffix, securityGroupId: this.securityGroupId,
      accessLogBucket: this.accessLogBucket, url: this.url,
    });
  }
}
