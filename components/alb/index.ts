// Application Load Balancer in front of the fleet: listeners, target group with the readiness
// check, access logs, and the security group the instances accept traffic from. The timing rules
// between LB and service (checkLoadBalancerTimings) are enforced here, not only documented.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { contentTypeOptions, strictTransportSecurity } from "../../contract/headers";
import { ServiceSettings, serviceDefaults } from "../../contract/service";
import { loadBalancerLogBucket } from "../_shared/logBucket";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { formatProblem } from "../../contract/problem";
import { accessLogDeliveryStatements, checkAlbTimings, defaultSslPolicy } from "./rules";
export { accessLogDeliveryStatements, checkAlbTimings, defaultSslPolicy };

export interface AlbArgs {
  /** VPC of the load balancer and its target group. */
  vpcId: pulumi.Input<string>;
  /** Public subnets, one per AZ (at least 2). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Service settings (contract/service.ts): the target port, and the timings the load balancer's are checked
   * against. Default serviceDefaults.
   */
  service?: ServiceSettings;
  /** ACM certificate: HTTPS on 443 and a redirect on 80. Default none: plain HTTP on 80 (dev only). */
  certificateArn?: pulumi.Input<string>;
  /** IPv4 CIDRs allowed to reach 80/443. Plain list: one rule each. Default ["0.0.0.0/0"]. */
  allowedCidrs?: pulumi.Input<string>[];
  /** Seconds an idle client connection is kept; must stay below service.keepAliveTimeoutMs. Default 60. */
  idleTimeoutSec?: pulumi.Input<number>;
  /** Seconds a leaving target stays registered: above service.drainDelayMs, below the systemd stop timeout. Default 30. */
  deregistrationDelaySec?: pulumi.Input<number>;
  /** Ramp-up of a new target's share of requests (0 or 30-900). Default 30. */
  slowStartSec?: pulumi.Input<number>;
  /** Readiness endpoint of the service. Default /readyz. */
  healthCheckPath?: pulumi.Input<string>;
  /** TLS policy of the HTTPS listener. Default defaultSslPolicy (TLS 1.3 and 1.2 only). */
  sslPolicy?: pulumi.Input<string>;
  /** monitor, defensive or strictest. Default defensive (AWS's recommendation). */
  desyncMitigationMode?: pulumi.Input<string>;
  /** Refuse to delete the load balancer. Default false. */
  deletionProtection?: pulumi.Input<boolean>;
  /** Days access logs are kept. Default 30. */
  accessLogRetentionDays?: pulumi.Input<number>;
  /** Let `pulumi destroy` empty the access-log bucket (dev). Default false. */
  forceDestroyLogs?: pulumi.Input<boolean>;
  /**
   * Ids of what gives the public subnets their internet route (Network.internetConnectivityEstablished): the
   * internet-facing load balancer is created after them. Default none (an existing VPC's route is there already).
   */
  internetConnectivity?: pulumi.Input<pulumi.Input<string>[]>;
  /** Bucket taking the access-log bucket's own S3 server access logs (Security Hub S3.9; Bundle.accessLogBucketName). Default none. */
  serverAccessLogBucket?: pulumi.Input<string>;
  /** Tags of every resource. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * `dependsOn` for `resources` and for the resources `ids` were computed from: an Output's own resources are
 * dependencies too (@pulumi/pulumi runtime/dependsOn.ts, gatherExplicitDependencies).
 */
const after = (ids: pulumi.Input<pulumi.Input<string>[]> | undefined, resources: pulumi.Resource[]) =>
  pulumi.output(ids ?? []).apply(() => resources);

export class Alb extends pulumi.ComponentResource {
  /** ARN of the load balancer. */
  public readonly loadBalancerArn: pulumi.Output<string>;
  /** `app/<name>/<id>`: the LoadBalancer dimension of its CloudWatch metrics. */
  public readonly loadBalancerArnSuffix: pulumi.Output<string>;
  /** Public DNS name of the load balancer. */
  public readonly dnsName: pulumi.Output<string>;
  /** Route 53 zone of dnsName, for an alias record. */
  public readonly zoneId: pulumi.Output<string>;
  /** ARN of the target group the fleet registers with. */
  public readonly targetGroupArn: pulumi.Output<string>;
  /** `targetgroup/<name>/<id>`: the TargetGroup dimension of its CloudWatch metrics. */
  public readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** Security group of the load balancer: the one the instances accept the service port from. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Name of the private bucket the access logs go to. */
  public readonly accessLogBucket: pulumi.Output<string>;
  /** https://<dns> with a certificate, http://<dns> without. */
  public readonly url: pulumi.Output<string>;
  /**
   * ARNs of the listeners. The target group is attached to the load balancer only through them: whatever
   * registers targets or scales on request count per target is created after them (aws-cdk's loadBalancerAttached).
   */
  public readonly listenerArns: pulumi.Output<string[]>;

  constructor(name: string, args: AlbArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Alb"), name, {}, withFormerType("node-service:alb:Alb", opts));
    const service = args.service ?? serviceDefaults;
    const idleTimeoutSec = args.idleTimeoutSec ?? 60;
    const deregistrationDelaySec = args.deregistrationDelaySec ?? 30;
    const slowStartSec = args.slowStartSec ?? 30;
    const check = ([idle, dereg, slow]: number[]) => {
      const errors = checkAlbTimings({
        idleTimeoutSec: idle!,
        keepAliveTimeoutMs: service.keepAliveTimeoutMs,
        drainDelayMs: service.drainDelayMs,
        shutdownTimeoutMs: service.shutdownTimeoutMs,
        deregistrationDelaySec: dereg!,
        slowStartSec: slow!,
      });
      if (errors.length) throw new pulumi.RunError(`Alb ${name}: ${errors.map(formatProblem).join("; ")}`);
    };
    // Refuse at once when the values are known now; otherwise as soon as they resolve.
    const timings = [idleTimeoutSec, deregistrationDelaySec, slowStartSec];
    if (timings.every((v) => typeof v === "number")) check(timings as number[]);
    const checkedIdle = pulumi.all(timings).apply((t) => {
      check(t);
      return t[0]!;
    });

    const https = args.certificateArn !== undefined;
    const port = service.port;
    // SSE-S3: ALB log delivery supports no other encryption
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
    const { bucket: logs, policy: logsPolicy } = loadBalancerLogBucket(
      `${name}-logs`,
      {
        retentionDays: args.accessLogRetentionDays ?? 30,
        forceDestroy: args.forceDestroyLogs ?? false,
        serverAccessLogBucket: args.serverAccessLogBucket,
        deliveryStatements: accessLogDeliveryStatements,
        tags: args.tags,
      },
      { parent: this },
    );

    const sg = new aws.ec2.SecurityGroup(
      `${name}-lb`,
      { vpcId: args.vpcId, description: "Load balancer: HTTP(S) from the allowed CIDRs", tags: args.tags },
      { parent: this },
    );
    const cidrs = args.allowedCidrs ?? ["0.0.0.0/0"];
    const listenPorts = https ? [80, 443] : [80];
    cidrs.forEach((cidr, i) => {
      for (const p of listenPorts)
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-lb-${p}-${i}`,
          {
            securityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: p,
            toPort: p,
            cidrIpv4: cidr,
            description:
              p === 443
                ? "HTTPS from allowed clients"
                : https
                  ? "HTTP from allowed clients (redirected to HTTPS)"
                  : "HTTP from allowed clients",
          },
          { parent: this },
        );
    });

    const lb = new aws.lb.LoadBalancer(
      `${name}`,
      {
        loadBalancerType: "application",
        internal: false,
        securityGroups: [sg.id],
        subnets: args.subnetIds,
        idleTimeout: checkedIdle,
        dropInvalidHeaderFields: true,
        desyncMitigationMode: args.desyncMitigationMode ?? "defensive",
        enableDeletionProtection: args.deletionProtection ?? false,
        enableHttp2: true,
        accessLogs: { bucket: logs.bucket, enabled: true, prefix: "" },
        tags: args.tags,
      },
      { parent: this, dependsOn: after(args.internetConnectivity, [logsPolicy]) },
    );

    const tg = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        vpcId: args.vpcId,
        port,
        protocol: "HTTP",
        targetType: "instance",
        deregistrationDelay: deregistrationDelaySec,
        slowStart: slowStartSec,
        healthCheck: {
          enabled: true,
          path: args.healthCheckPath ?? "/readyz",
          port: "traffic-port",
          protocol: "HTTP",
          matcher: "200",
          interval: 10,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
        },
        tags: args.tags,
      },
      { parent: this },
    );

    const listeners: aws.lb.Listener[] = [];
    if (https) {
      listeners.push(
        new aws.lb.Listener(
          `${name}-https`,
          {
            loadBalancerArn: lb.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: args.sslPolicy ?? defaultSslPolicy,
            certificateArn: args.certificateArn,
            defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
            // Listener attributes (ALB HTTP header modification): the ALB sets them on this listener's answers,
            // the same values the HAProxy flavor's frontend sets. The HTTP listener only redirects here; browsers
            // ignore HSTS on plain HTTP.
            routingHttpResponseStrictTransportSecurityHeaderValue: strictTransportSecurity,
            routingHttpResponseXContentTypeOptionsHeaderValue: contentTypeOptions,
            tags: args.tags,
          },
          { parent: this },
        ),
      );
      listeners.push(
        new aws.lb.Listener(
          `${name}-http`,
          {
            loadBalancerArn: lb.arn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [
              { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
            ],
            tags: args.tags,
          },
          { parent: this },
        ),
      );
    } else {
      listeners.push(
        new aws.lb.Listener(
          `${name}-http`,
          {
            loadBalancerArn: lb.arn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
            // Plain HTTP (dev without a certificate): no HSTS, which browsers ignore over HTTP.
            routingHttpResponseXContentTypeOptionsHeaderValue: contentTypeOptions,
            tags: args.tags,
          },
          { parent: this },
        ),
      );
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
    this.listenerArns = pulumi.all(listeners.map((l) => l.arn));
    this.registerOutputs({
      loadBalancerArn: this.loadBalancerArn,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
      dnsName: this.dnsName,
      zoneId: this.zoneId,
      targetGroupArn: this.targetGroupArn,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      securityGroupId: this.securityGroupId,
      accessLogBucket: this.accessLogBucket,
      url: this.url,
      listenerArns: this.listenerArns,
    });
  }
}
