// The HAProxy flavor on AWS, wired from its parts: security groups (securityGroups.ts), the service hosts
// (serviceHosts.ts) and their discovery record (discovery.ts), the HAProxy nodes (nodes.ts), the NLB
// (nlb.ts) and the SSM rollout (rollout.ts). Every part is created with this component as its parent.
import * as pulumi from "@pulumi/pulumi";
import { fleetDnsNames } from "../../contract/layout";
import { withServiceDefaults } from "../../contract/service";
import { renderTierHaproxyConfig } from "../../host/haproxy/nodeUserData";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { discovery } from "./discovery";
import { tierNlb } from "./nlb";
import { haproxyNodes } from "./nodes";
import { rollout } from "./rollout";
import { checkHaproxyTierArgs } from "./rules";
import { tierSecurityGroups } from "./securityGroups";
import { serviceHosts } from "./serviceHosts";
export { checkHaproxyTierArgs };

export { VPC_RESOLVER, TierConfigInput, renderTierHaproxyConfig, renderNodeUserData, NodeUserDataOptions } from "../../host/haproxy/nodeUserData";

export interface HaproxyTierArgs {
  env: string;
  /** Service settings (name, port, timings) as in contract/service.ts; defaults fill the rest. */
  serviceName?: string;
  servicePort?: number;
  drainDelayMs?: number;
  shutdownTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;

  vpcId: pulumi.Input<string>;
  /** NLB subnets. */
  publicSubnetIds: pulumi.Input<string>[];
  /** HAProxy nodes and fleet instances go round-robin over these, so consecutive ones land in different AZs. */
  privateSubnetIds: pulumi.Input<string>[];
  /** Debian 12 image of both node kinds (the stack looks it up and pins it in prod). */
  amiId: pulumi.Input<string>;

  /** HAProxy nodes; default 2 in prod, 1 elsewhere. Prod refuses fewer than 2. */
  nodeCount?: number;
  nodeInstanceType?: pulumi.Input<string>;
  /** cloud-init of an HAProxy node: `renderNodeUserData` (same service settings, fleet DNS name, slots and port as here). */
  nodeUserData: pulumi.Input<string>;
  /** HAProxy's port on the nodes. */
  listenPort?: number;

  /** Service instances behind HAProxy (fixed, known at deploy time). */
  fleetInstanceCount: number;
  /** server-template slots; default 2x the fleet (room to grow without a config change). */
  serverSlots?: number;
  fleetInstanceType?: pulumi.Input<string>;
  /** cloud-init of a service host (host renderers). Read at first boot only: later releases come through SSM. */
  fleetUserData: pulumi.Input<string>;
  /** Instance profile of the service hosts (SSM core, read of the bundle prefix and its own parameters). */
  fleetInstanceProfileName: pulumi.Input<string>;
  rootVolumeGiB?: number;

  /** ARNs of the SSM parameters the HAProxy nodes read at boot (Datadog API key, Papertrail destination). */
  nodeParameterArns: pulumi.Input<string>[];
  /** Who may reach the NLB. */
  allowedCidrs?: pulumi.Input<string>[];
  /** ACM certificate: TLS on 443 at the NLB; without it, plain TCP on 80 (dev). */
  certificateArn?: pulumi.Input<string>;
  deletionProtection?: boolean;

  /** The release to roll out: the bundle's s3:// URL, its sha256 and its version id. */
  bundleUrl: pulumi.Input<string>;
  bundleSha256: pulumi.Input<string>;
  version: pulumi.Input<string>;
  /** Hosts deployed at once (SSM max concurrency); default "1". */
  rolloutBatch?: pulumi.Input<string>;
}

/**
 * The HAProxy flavor on AWS: HAProxy nodes behind an internet-facing NLB, in front of a fixed set of
 * service instances, and the SSM association that rolls a new release over those instances one at a time.
 *
 * How HAProxy finds the service instances without anyone editing its config: the fleet is
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
 */
export class HaproxyTier extends pulumi.ComponentResource {
  public readonly nlbDnsName: pulumi.Output<string>;
  public readonly nlbArnSuffix: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly nodeInstanceIds: pulumi.Output<string[]>;
  public readonly fleetInstanceIds: pulumi.Output<string[]>;
  public readonly fleetPrivateIps: pulumi.Output<string[]>;
  public readonly fleetDnsName: string;
  public readonly haproxyConfig: string;
  public readonly associationId: pulumi.Output<string>;
  public readonly deployDocumentName: pulumi.Output<string>;
  public readonly nodeSecurityGroupId: pulumi.Output<string>;
  public readonly fleetSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: HaproxyTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("HaproxyTier"), name, {}, withFormerType("node-service:haproxy:HaproxyTier", opts));
    const problems = checkHaproxyTierArgs(args);
    // RunError: `pulumi up` prints the message alone, without a stack trace.
    if (problems.length > 0) throw new pulumi.RunError(`HaproxyTier ${name}: ${problems.join("; ")}`);

    const service = withServiceDefaults({
      name: args.serviceName,
      port: args.servicePort,
      drainDelayMs: args.drainDelayMs,
      shutdownTimeoutMs: args.shutdownTimeoutMs,
      keepAliveTimeoutMs: args.keepAliveTimeoutMs,
      headersTimeoutMs: args.headersTimeoutMs,
    });
    const env = args.env;
    const listenPort = args.listenPort ?? 80;
    const dns = fleetDnsNames(service.name, env);
    const fleetTag = `${service.name}-${env}`;
    const tags = { Service: service.name, Env: env };
    const host = { amiId: args.amiId, subnetIds: pulumi.output(args.privateSubnetIds), userData: args.fleetUserData, rootVolumeGb: args.rootVolumeGiB ?? 16 };
    this.fleetDnsName = dns.fleet;
    this.haproxyConfig = renderTierHaproxyConfig({
      service, fleetDnsName: dns.fleet, serverSlots: args.serverSlots ?? 2 * args.fleetInstanceCount, listenPort,
    });
    const sgs = tierSecurityGroups(name, {
      vpcId: args.vpcId, serviceName: service.name, env, tags, publicPort: args.certificateArn !== undefined ? 443 : 80, listenPort,
      servicePort: service.port, allowedCidrs: args.allowedCidrs ?? ["0.0.0.0/0"],
    }, this);
    const fleet = serviceHosts(name, {
      ...host, count: args.fleetInstanceCount, instanceType: args.fleetInstanceType ?? "t3.small", securityGroupId: sgs.fleet.id,
      instanceProfileName: args.fleetInstanceProfileName, tags, fleetTag,
    }, this);
    discovery(name, { vpcId: args.vpcId, dns, serviceName: service.name, env, tags, hosts: fleet }, this);
    const nodes = haproxyNodes(name, {
      ...host, count: args.nodeCount ?? (env === "prod" ? 2 : 1), instanceType: args.nodeInstanceType ?? "t3.small", securityGroupId: sgs.node.id,
      userData: args.nodeUserData, serviceName: service.name, env, tags, fleetTag, parameterArns: args.nodeParameterArns,
    }, this);
    const nlb = tierNlb(name, {
      vpcId: args.vpcId, subnetIds: args.publicSubnetIds, securityGroupId: sgs.nlb.id, nodes, listenPort,
      deregistrationDelaySec: Math.ceil(service.shutdownTimeoutMs / 1000), certificateArn: args.certificateArn,
      deletionProtection: args.deletionProtection ?? env === "prod", tags,
    }, this);
    const { document, association } = rollout(name, {
      service, fleetTag, hosts: fleet, bundleUrl: args.bundleUrl, bundleSha256: args.bundleSha256, version: args.version,
      batch: args.rolloutBatch ?? "1", tags,
    }, this);

    this.nlbDnsName = nlb.dnsName;
    this.nlbArnSuffix = nlb.arnSuffix;
    this.url = pulumi.interpolate`${args.certificateArn !== undefined ? "https" : "http"}://${nlb.dnsName}`;
    this.nodeInstanceIds = pulumi.all(nodes.map((n) => n.id));
    this.fleetInstanceIds = pulumi.all(fleet.map((f) => f.id));
    this.fleetPrivateIps = pulumi.all(fleet.map((f) => f.privateIp));
    this.associationId = association.id;
    this.deployDocumentName = document.name;
    this.nodeSecurityGroupId = sgs.node.id;
    this.fleetSecurityGroupId = sgs.fleet.id;
    this.registerOutputs({
      nlbDnsName: this.nlbDnsName,
      url: this.url,
      nodeInstanceIds: this.nodeInstanceIds,
      fleetInstanceIds: this.fleetInstanceIds,
      fleetPrivateIps: this.fleetPrivateIps,
      associationId: this.associationId,
      deployDocumentName: this.deployDocumentName,
      fleetDnsName: this.fleetDnsName,
    });
  }
}
