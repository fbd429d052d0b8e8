// The HAProxy flavor on AWS, wired from its parts: security groups (securityGroups.ts), the service hosts
// (serviceHosts.ts) and their discovery record (discovery.ts), the NLB (nlb.ts), the HAProxy nodes' Auto
// Scaling group in its target group (nodes.ts) and the SSM rollout (rollout.ts). Every part is created with this component as its parent.
import * as pulumi from "@pulumi/pulumi";
import { fleetDnsNames } from "../../contract/layout";
import { serviceDefaults } from "../../contract/service";
import { defaultListenPort, nodeHealthCheck, renderTierHaproxyConfig } from "../../host/haproxy/nodeUserData";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { discovery } from "./discovery";
import { tierNlb } from "./nlb";
import { haproxyNodes } from "./nodes";
import { rollout } from "./rollout";
import { formatProblem } from "../../contract/problem";
import { checkHaproxyTierArgs, checkSubnetCounts } from "./rules";
import { tierSecurityGroups } from "./securityGroups";
import { serviceHosts } from "./serviceHosts";
export { checkHaproxyTierArgs };
import { HaproxyTierArgs } from "./args";
export type { HaproxyTierArgs };

/**
 * The HAProxy flavor on AWS: HAProxy nodes behind an internet-facing NLB, in front of a fixed set of
 * service hosts, and the SSM association that rolls a new release over those hosts one at a time.
 *
 * How HAProxy finds the service hosts without anyone editing its config: the fleet is
 * `fleetInstanceCount` EC2 instances created here, spread round-robin over the private subnets. Their
 * private IPs form one A record set, `fleet.<service>.<env>.internal`, in a Route 53 private hosted zone of
 * the VPC. Every HAProxy node's config has `server-template app<1..slots> fleet...:<port> resolvers vpc`:
 * HAProxy asks the VPC resolver (169.254.169.253) at run time and fills as many slots as there are
 * addresses. Adding or replacing an instance changes the record on `pulumi up`; within the record's TTL
 * plus HAProxy's `hold valid` every node uses the new set, and a server still has to pass its /readyz
 * check before it gets traffic.
 *
 * Code rollout: an SSM Command document runs the per-host deploy script (host/deploy/script.ts) with the
 * bundle's URL, sha256 and version. An association targets the fleet by tag with max concurrency 1 (or
 * `rolloutBatch`) and max errors 0, so a new bundle re-runs it host by host and stops at the first host
 * that fails to become ready; that host's script rolls it back to the previous release and the hosts
 * after it keep the old release. `pulumi up` waits for the association to succeed.
 *
 * Secret rotation (with secretsRevision and fleetSecretsScript): the revision is a parameter of the same
 * association, which first runs the secrets script with --restart (rsyslog or the Datadog agent restarts when
 * its value changed), then the deploy step on the running release, a restart; so a new value reaches every
 * service host one at a time. The nodes carry the revision as an instance tag of their launch template, and
 * their refresh replaces them one at a time, each new node reading the new values at its boot.
 */
export class HaproxyTier extends pulumi.ComponentResource {
  /** Public DNS name of the NLB. */
  public readonly nlbDnsName: pulumi.Output<string>;
  /** Route 53 zone of nlbDnsName, for an alias record. */
  public readonly nlbZoneId: pulumi.Output<string>;
  /** `net/<name>/<id>`: the LoadBalancer dimension of the NLB's CloudWatch metrics. */
  public readonly nlbArnSuffix: pulumi.Output<string>;
  /** `targetgroup/<name>/<id>`: the TargetGroup dimension of the nodes' NLB metrics (healthy and unhealthy hosts). */
  public readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** https://<nlb> with a certificate, http://<nlb> without. */
  public readonly url: pulumi.Output<string>;
  /** Name of the HAProxy nodes' Auto Scaling group. */
  public readonly nodeGroupName: pulumi.Output<string>;
  /** Instance ids of the service hosts. */
  public readonly fleetInstanceIds: pulumi.Output<string[]>;
  /** Private IPs of the service hosts: what the discovery record holds. */
  public readonly fleetPrivateIps: pulumi.Output<string[]>;
  /** The record HAProxy resolves the service hosts by: fleet.<service>.<env>.internal. */
  public readonly fleetDnsName: string;
  /** haproxy.cfg of every node, as rendered for this tier. */
  public readonly haproxyConfig: string;
  /** Id of the SSM association that rolls releases out. */
  public readonly associationId: pulumi.Output<string>;
  /** Name of the SSM Command document running the deploy script. */
  public readonly deployDocumentName: pulumi.Output<string>;
  /** Security group of the HAProxy nodes. */
  public readonly nodeSecurityGroupId: pulumi.Output<string>;
  /** Security group of the service hosts. */
  public readonly fleetSecurityGroupId: pulumi.Output<string>;
  /** ARN of the HAProxy nodes' role: the secrets key's policy lets it decrypt the nodes' boot parameters. */
  public readonly nodeRoleArn: pulumi.Output<string>;

  constructor(name: string, args: HaproxyTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("HaproxyTier"), name, {}, withFormerType("node-service:haproxy:HaproxyTier", opts));
    const problems = checkHaproxyTierArgs(args);
    // RunError: `pulumi up` prints the message alone, without a stack trace.
    if (problems.length > 0)
      throw new pulumi.RunError(`HaproxyTier ${name}: ${problems.map(formatProblem).join("; ")}`);

    const service = args.service ?? serviceDefaults;
    const env = args.env;
    const highAvailability = args.highAvailability ?? false;
    const listenPort = args.listenPort ?? defaultListenPort;
    const healthPort = args.healthPort ?? nodeHealthCheck.port;
    const dns = fleetDnsNames(service.name, env);
    const fleetTag = `${service.name}-${env}`;
    const tags = { Service: service.name, Env: env };
    // Lists given as Outputs are checked once they resolve (plain ones were checked above).
    const checked = (ids: pulumi.Input<pulumi.Input<string>[]>, count: "privateSubnets" | "publicSubnets") =>
      pulumi.output(ids).apply((list) => {
        const errors = checkSubnetCounts({ highAvailability, [count]: list.length });
        if (errors.length > 0)
          throw new pulumi.RunError(`HaproxyTier ${name}: ${errors.map(formatProblem).join("; ")}`);
        return list;
      });
    const privateSubnetIds = checked(args.privateSubnetIds, "privateSubnets");
    const host = {
      amiId: args.amiId,
      subnetIds: privateSubnetIds,
      userData: args.fleetUserData,
      rootVolumeGb: args.rootVolumeGb ?? 16,
    };

    this.fleetDnsName = dns.fleet;
    this.haproxyConfig = renderTierHaproxyConfig({
      service,
      fleetDnsName: dns.fleet,
      serverSlots: args.serverSlots ?? 2 * args.fleetInstanceCount,
      listenPort,
      healthPort,
      https: args.certificateArn !== undefined,
    });
    const sgs = tierSecurityGroups(
      name,
      {
        vpcId: args.vpcId,
        serviceName: service.name,
        env,
        tags,
        publicPort: args.certificateArn !== undefined ? 443 : 80,
        listenPort,
        healthPort,
        servicePort: service.port,
        allowedCidrs: args.allowedCidrs ?? ["0.0.0.0/0"],
        papertrailPort: args.papertrailPort ?? 443,
      },
      this,
    );
    const fleet = serviceHosts(
      name,
      {
        ...host,
        count: args.fleetInstanceCount,
        instanceType: args.fleetInstanceType ?? "t3.small",
        securityGroupId: sgs.fleet.id,
        instanceProfileName: args.fleetInstanceProfileName,
        tags,
        fleetTag,
        imageRolloutHosts: args.fleetImageRolloutHosts ?? [],
      },
      this,
    );
    discovery(name, { vpcId: args.vpcId, dns, serviceName: service.name, env, tags, hosts: fleet }, this);
    const { nlb, targetGroup } = tierNlb(
      name,
      {
        vpcId: args.vpcId,
        subnetIds: checked(args.publicSubnetIds, "publicSubnets"),
        securityGroupId: sgs.nlb.id,
        listenPort,
        health: { port: healthPort, path: nodeHealthCheck.path },
        deregistrationDelaySec: Math.ceil(service.shutdownTimeoutMs / 1000),
        certificateArn: args.certificateArn,
        deletionProtection: args.deletionProtection ?? false,
        accessLogs: args.accessLogs
          ? {
              retentionDays: args.accessLogRetentionDays ?? 30,
              protect: args.protectAccessLogs ?? false,
              serverAccessLogBucket: args.serverAccessLogBucket,
            }
          : undefined,
        tags,
      },
      this,
    );
    const { group: nodes, role: nodeRole } = haproxyNodes(
      name,
      {
        ...host,
        count: args.nodeCount ?? 1,
        rootDeviceName: args.rootDeviceName ?? "/dev/xvda",
        instanceType: args.nodeInstanceType ?? "t3.small",
        securityGroupId: sgs.node.id,
        userData: args.nodeUserData,
        targetGroupArn: targetGroup.arn,
        bootSec: args.nodeBootSec ?? 600,
        serviceName: service.name,
        env,
        tags,
        fleetTag,
        parameterArns: args.nodeParameterArns,
        kmsKeyArn: args.kmsKeyArn,
        secretsRevision: args.secretsRevision,
      },
      this,
    );
    const { document, association } = rollout(
      name,
      {
        service,
        fleetTag,
        hosts: fleet,
        bundleUrl: args.bundleUrl,
        bundleSha256: args.bundleSha256,
        version: args.version,
        batch: args.rolloutBatch ?? "1",
        secrets:
          args.secretsRevision !== undefined && args.fleetSecretsScript !== undefined
            ? { script: args.fleetSecretsScript, revision: args.secretsRevision }
            : undefined,
        tags,
      },
      this,
    );

    this.nlbDnsName = nlb.dnsName;
    this.nlbZoneId = nlb.zoneId;
    this.nlbArnSuffix = nlb.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.url = pulumi.interpolate`${args.certificateArn !== undefined ? "https" : "http"}://${nlb.dnsName}`;
    this.nodeGroupName = nodes.name;
    this.fleetInstanceIds = pulumi.all(fleet.map((f) => f.id));
    this.fleetPrivateIps = pulumi.all(fleet.map((f) => f.privateIp));
    this.associationId = association.id;
    this.deployDocumentName = document.name;
    this.nodeSecurityGroupId = sgs.node.id;
    this.fleetSecurityGroupId = sgs.fleet.id;
    this.nodeRoleArn = nodeRole.arn;
    this.registerOutputs({
      nlbDnsName: this.nlbDnsName,
      nlbZoneId: this.nlbZoneId,
      nlbArnSuffix: this.nlbArnSuffix,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      url: this.url,
      nodeGroupName: this.nodeGroupName,
      fleetInstanceIds: this.fleetInstanceIds,
      fleetPrivateIps: this.fleetPrivateIps,
      fleetDnsName: this.fleetDnsName,
      haproxyConfig: this.haproxyConfig,
      associationId: this.associationId,
      deployDocumentName: this.deployDocumentName,
      nodeSecurityGroupId: this.nodeSecurityGroupId,
      fleetSecurityGroupId: this.fleetSecurityGroupId,
      nodeRoleArn: this.nodeRoleArn,
    });
  }
}
