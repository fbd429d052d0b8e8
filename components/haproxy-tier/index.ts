// The HAProxy flavor on AWS, wired from its parts: security groups (securityGroups.ts), the service hosts
// (serviceHosts.ts) and their discovery record (discovery.ts), the NLB (nlb.ts), the HAProxy nodes' Auto
// Scaling group in its target group (nodes.ts) and the SSM rollout (rollout.ts). Every part is created with this component as its parent.
import * as pulumi from "@pulumi/pulumi";
import { fleetDnsNames } from "../../contract/layout";
import { ServiceSettings, serviceDefaults } from "../../contract/service";
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

export interface HaproxyTierArgs {
  /** Environment name, Secrets' too: part of the fleet's DNS zone, its `Fleet` tag, every tag, the SSM names. Lowercase. */
  env: string;
  /** Service settings (contract/service.ts): name, port and timings. Default serviceDefaults. */
  service?: ServiceSettings;

  /** VPC of every part. */
  vpcId: pulumi.Input<string>;
  /** NLB subnets. */
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** HAProxy nodes and service hosts go round-robin over these, so consecutive ones land in different AZs. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Debian 12 image of both kinds of host (the stack looks it up and pins it in prod). */
  amiId: pulumi.Input<string>;
  /** Root device name of that image (getAmi's rootDeviceName), for the nodes' launch template. Default /dev/xvda (Debian's). */
  rootDeviceName?: pulumi.Input<string>;
  /**
   * Refuse a tier one failure takes down: fewer than 2 HAProxy nodes, 2 private subnets (AZs) or 2 service
   * hosts. Default false; the stack sets it in prod.
   */
  highAvailability?: boolean;

  /** HAProxy nodes: the size of their Auto Scaling group. Plain: it decides the group's replacement percentages. Default 1. */
  nodeCount?: number;
  /** Instance type of the HAProxy nodes. Default t3.small. */
  nodeInstanceType?: pulumi.Input<string>;
  /**
   * cloud-init of an HAProxy node: host/haproxy/nodeUserData.ts renderNodeUserData, with the same service
   * settings, fleet DNS name, slots and port as here.
   */
  nodeUserData: pulumi.Input<string>;
  /**
   * Time a new HAProxy node has to boot and pass the NLB's check, seconds: its group's health check grace
   * period and warm-up. Default 600.
   */
  nodeBootSec?: pulumi.Input<number>;
  /** HAProxy's port on the nodes and the NLB target port: 1024-65535, as haproxy.service grants no capability to bind lower. Plain: it is part of haproxy.cfg. Default 8080. */
  listenPort?: number;
  /**
   * Port of the NLB's health check on the nodes, HAProxy's health URI (nodeHealthCheck.path): 200 while a
   * service host is usable, 503 when none is. Plain: part of haproxy.cfg; give nodeUserData the same. Default 8405.
   */
  healthPort?: number;

  /** Service hosts behind HAProxy (fixed, known at deploy time). Plain: one instance each. */
  fleetInstanceCount: number;
  /**
   * Service hosts, by index, whose image follows `amiId` on this update: each is replaced (the new host is
   * created and joins the discovery record; the old one is deleted at the end of the update). Every other
   * existing host keeps the image it was created with, so a new or floating `amiId` never replaces the fleet
   * at once. Roll an image one host per `pulumi up`: [0], then [1], ...; fewer than all hosts at once. Plain:
   * it decides resource options. Default none.
   */
  fleetImageRolloutHosts?: number[];
  /** server-template slots, room to grow without a config change. Plain: part of haproxy.cfg. Default 2x fleetInstanceCount. */
  serverSlots?: number;
  /** Instance type of the service hosts. Default t3.small. */
  fleetInstanceType?: pulumi.Input<string>;
  /** cloud-init of a service host: renderUserData with this service and env (Secrets' too) and Bundle's URLs. Read at
   *  first boot only: later releases come through SSM, whose deploy step needs the layout it installs. */
  fleetUserData: pulumi.Input<string>;
  /** Instance profile of the service hosts (serviceHostRole: reads Bundle's releases/ and runtimes/, its own parameters). */
  fleetInstanceProfileName: pulumi.Input<string>;
  /** Size of the encrypted gp3 root volume of every host, GB. Default 16. */
  rootVolumeGb?: pulumi.Input<number>;

  /** ARNs of the SSM parameters the HAProxy nodes read at boot (Secrets.parameterArns; nodeUserData names them). */
  nodeParameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The KMS key encrypting those parameters (Secrets.keyArn): the nodes may decrypt with it, only through SSM.
   * Default none: the parameters are under the AWS managed key aws/ssm.
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** Who may reach the NLB. Plain list: one rule each. Default ["0.0.0.0/0"]. */
  allowedCidrs?: pulumi.Input<string>[];
  /** TCP port of the Papertrail destination, the one port besides HTTPS the hosts may open outward. Default 443 (HTTPS, open anyway). */
  papertrailPort?: pulumi.Input<number>;
  /** ACM certificate: TLS on 443 at the NLB. Default none: plain TCP on 80 (dev). */
  certificateArn?: pulumi.Input<string>;
  /** Refuse to delete the NLB. Default false. */
  deletionProtection?: pulumi.Input<boolean>;
  /**
   * Write the NLB's access logs (TLS connections: it logs nothing else, so this needs `certificateArn`) to a
   * private bucket `<name>-nlb-logs`. Plain: it adds resources. Default false.
   */
  accessLogs?: boolean;
  /** With `accessLogs`: days a log is kept. Default 30. */
  accessLogRetentionDays?: pulumi.Input<number>;
  /**
   * With `accessLogs`: Pulumi protect on the log bucket and its parts, and no emptying by `pulumi destroy`; false
   * lets destroy empty it (dev). Plain: a resource option. Default false.
   */
  protectAccessLogs?: boolean;
  /** With `accessLogs`: bucket taking the log bucket's own S3 server access logs (Bundle.accessLogBucketName). Default none. */
  serverAccessLogBucket?: pulumi.Input<string>;

  /** s3:// URL of the release to roll out (Bundle.url: under releases/, the only prefix the hosts' role reads). */
  bundleUrl: pulumi.Input<string>;
  /** sha256 of that release, hex. */
  bundleSha256: pulumi.Input<string>;
  /** Release id the hosts record: its folder under /opt/<service>/releases; up to 64 of A-Z a-z 0-9 . _ - */
  version: pulumi.Input<string>;
  /** Hosts deployed at once (SSM max concurrency). Default "1". */
  rolloutBatch?: pulumi.Input<string>;
  /**
   * Revision of the secrets (Secrets.revision: parameter versions, never a value). The HAProxy nodes' launch
   * template tags each node with it, so a new value is a new template version the nodes' refresh rolls out;
   * with fleetSecretsScript, it is also a parameter of the rollout, so a new value re-runs it on every service
   * host, one at a time. Default none: hosts and nodes keep the values they booted with.
   */
  secretsRevision?: pulumi.Input<string>;
  /**
   * The service hosts' secrets script (host/secrets.ts renderSecretsScript, from the same host input as
   * fleetUserData): the rollout runs it with --restart before the deploy step. Used with secretsRevision only.
   * Default none: the rollout deploys only.
   */
  fleetSecretsScript?: pulumi.Input<string>;
}

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
