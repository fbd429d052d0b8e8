import { fleetDnsNames } from "../../contract/layout";
import * as pulumi from "@pulumi/pulumi";
import { typeToken, withFormerType } from "../_shared/typeToken";
import * as aws from "@pulumi/aws";
import { withServiceDefaults } from "../../contract/service";
import { renderTierHaproxyConfig } from "../../host/haproxy/nodeUserData";
import { renderDeployScript, withDeployDefaults } from "../../host/deploy/script";

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

export function checkHaproxyTierArgs(a: HaproxyTierArgs): string[] {
  const errors: string[] = [];
  const nodes = a.nodeCount ?? (a.env === "prod" ? 2 : 1);
  if (!Number.isInteger(nodes) || nodes < 1) errors.push(`nodeCount: ${nodes} must be a positive integer`);
  if (a.env === "prod" && nodes < 2) errors.push(`nodeCount: ${nodes} in prod; at least 2 so no HAProxy node is a single point of failure`);
  if (a.env === "prod" && a.privateSubnetIds.length < 2)
    errors.push(`privateSubnetIds: ${a.privateSubnetIds.length} in prod; at least 2 (two AZs) so one AZ can fail`);
  if (a.privateSubnetIds.length < 1) errors.push("privateSubnetIds: at least one subnet is required");
  if (a.publicSubnetIds.length < 1) errors.push("publicSubnetIds: at least one subnet is required for the NLB");
  if (!Number.isInteger(a.fleetInstanceCount) || a.fleetInstanceCount < 1)
    errors.push(`fleetInstanceCount: ${a.fleetInstanceCount} must be a positive integer`);
  if (a.env === "prod" && a.fleetInstanceCount < 2) errors.push(`fleetInstanceCount: ${a.fleetInstanceCount} in prod; at least 2`);
  const slots = a.serverSlots ?? 2 * a.fleetInstanceCount;
  if (slots < a.fleetInstanceCount) errors.push(`serverSlots: ${slots} must be at least fleetInstanceCount (${a.fleetInstanceCount})`);
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(a.env)) errors.push(`env: "${a.env}" must be lowercase letters, digits or dashes`);
  return errors;
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
    const parent = { parent: this };

    const service = withServiceDefaults({
      name: args.serviceName,
      port: args.servicePort,
      drainDelayMs: args.drainDelayMs,
      shutdownTimeoutMs: args.shutdownTimeoutMs,
      keepAliveTimeoutMs: args.keepAliveTimeoutMs,
      headersTimeoutMs: args.headersTimeoutMs,
    });
    const env = args.env;
    const nodeCount = args.nodeCount ?? (env === "prod" ? 2 : 1);
    const listenPort = args.listenPort ?? 80;
    const dns = fleetDnsNames(service.name, env);
    this.fleetDnsName = dns.fleet;
    this.haproxyConfig = renderTierHaproxyConfig({
      service,
      fleetDnsName: dns.fleet,
      serverSlots: args.serverSlots ?? 2 * args.fleetInstanceCount,
      listenPort,
    });
    const fleetTag = `${service.name}-${env}`;
    const tags = { Service: service.name, Env: env };
    const subnetAt = (i: number) => args.privateSubnetIds[i % args.privateSubnetIds.length]!;
    const hardened = {
      // IMDSv2 only, and not reachable from anything forwarded through the host.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeType: "gp3", encrypted: true, volumeSize: args.rootVolumeGiB ?? 16, deleteOnTermination: true },
      associatePublicIpAddress: false,
      monitoring: true,
    };

    // ---------------------------------------------------------------- security groups
    const nlbSg = new aws.ec2.SecurityGroup(
      `${name}-nlb`,
      { vpcId: args.vpcId, description: `NLB in front of the HAProxy nodes of ${service.name} (${env})`, tags },
      parent,
    );
    const nodeSg = new aws.ec2.SecurityGroup(
      `${name}-node`,
      { vpcId: args.vpcId, description: `HAProxy nodes of ${service.name} (${env})`, tags },
      parent,
    );
    const fleetSg = new aws.ec2.SecurityGroup(
      `${name}-fleet`,
      { vpcId: args.vpcId, description: `Service hosts of ${service.name} (${env}) behind HAProxy`, tags },
      parent,
    );
    const publicPort = args.certificateArn !== undefined ? 443 : 80;
    (args.allowedCidrs ?? ["0.0.0.0/0"]).forEach((cidr, i) => {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-nlb-in-${i}`,
        {
          securityGroupId: nlbSg.id,
          cidrIpv4: cidr,
          ipProtocol: "tcp",
          fromPort: publicPort,
          toPort: publicPort,
          description: `Clients to the NLB listener (${publicPort})`,
        },
        parent,
      );
    });
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-nlb-out`,
      {
        securityGroupId: nlbSg.id,
        referencedSecurityGroupId: nodeSg.id,
        ipProtocol: "tcp",
        fromPort: listenPort,
        toPort: listenPort,
        description: "NLB to HAProxy (traffic and health checks)",
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-node-in`,
      {
        securityGroupId: nodeSg.id,
        referencedSecurityGroupId: nlbSg.id,
        ipProtocol: "tcp",
        fromPort: listenPort,
        toPort: listenPort,
        description: "HAProxy's port, from the NLB only",
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-node-to-fleet`,
      {
        securityGroupId: nodeSg.id,
        referencedSecurityGroupId: fleetSg.id,
        ipProtocol: "tcp",
        fromPort: service.port,
        toPort: service.port,
        description: "HAProxy to the service port of the fleet (requests and /readyz checks)",
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-fleet-in`,
      {
        securityGroupId: fleetSg.id,
        referencedSecurityGroupId: nodeSg.id,
        ipProtocol: "tcp",
        fromPort: service.port,
        toPort: service.port,
        description: "Service port, from the HAProxy nodes only",
      },
      parent,
    );
    // Both kinds of host reach AWS APIs (SSM, S3, Datadog, Papertrail) over HTTPS/TLS through the NAT.
    for (const [sg, who] of [[nodeSg, "node"], [fleetSg, "fleet"]] as const) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${who}-https`,
        { securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443, description: "HTTPS to AWS APIs, Datadog and package mirrors" },
        parent,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${who}-apt`,
        { securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 80, toPort: 80, description: "Debian package mirrors (apt over HTTP, signed)" },
        parent,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${who}-syslog-tls`,
        { securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 1024, toPort: 65535, description: "Syslog over TLS to Papertrail (its port is per account)" },
        parent,
      );
    }

    // ---------------------------------------------------------------- service fleet + discovery
    const fleet: aws.ec2.Instance[] = [];
    for (let i = 0; i < args.fleetInstanceCount; i++) {
      fleet.push(
        new aws.ec2.Instance(
          `${name}-fleet-${i}`,
          {
            ami: args.amiId,
            instanceType: args.fleetInstanceType ?? "t3.small",
            subnetId: subnetAt(i),
            vpcSecurityGroupIds: [fleetSg.id],
            iamInstanceProfile: args.fleetInstanceProfileName,
            userData: args.fleetUserData,
            ...hardened,
            tags: { ...tags, Name: `${fleetTag}-${i}`, Fleet: fleetTag },
          },
          // The user-data names the release of the first boot; later releases arrive through the SSM
          // association, so a new bundle must not stop and start every instance at once.
          { parent: this, ignoreChanges: ["userData"] },
        ),
      );
    }
    const zone = new aws.route53.Zone(
      `${name}-zone`,
      { name: dns.zone, comment: `Service discovery of ${service.name} (${env}) for HAProxy`, vpcs: [{ vpcId: args.vpcId }], forceDestroy: true, tags },
      parent,
    );
    new aws.route53.Record(
      `${name}-fleet`,
      {
        zoneId: zone.zoneId,
        name: dns.fleet,
        type: "A",
        // Short TTL: HAProxy holds a vanished address for 10 s more, so a replaced host leaves within ~20 s.
        ttl: 10,
        records: fleet.map((f) => f.privateIp),
      },
      parent,
    );

    // ---------------------------------------------------------------- HAProxy nodes
    const nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        description: `HAProxy nodes of ${service.name} (${env}): SSM Session Manager and their own boot parameters`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-node-ssm`,
      { role: nodeRole.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-node-params`,
      {
        role: nodeRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: args.nodeParameterArns }],
        }),
      },
      parent,
    );
    const nodeProfile = new aws.iam.InstanceProfile(`${name}-node`, { role: nodeRole.name, tags }, parent);
    const nodes: aws.ec2.Instance[] = [];
    for (let i = 0; i < nodeCount; i++) {
      nodes.push(
        new aws.ec2.Instance(
          `${name}-node-${i}`,
          {
            ami: args.amiId,
            instanceType: args.nodeInstanceType ?? "t3.small",
            subnetId: subnetAt(i),
            vpcSecurityGroupIds: [nodeSg.id],
            iamInstanceProfile: nodeProfile.name,
            userData: args.nodeUserData,
            // A config change replaces the nodes: Pulumi creates and attaches the new ones first and deletes the
            // old ones at the end of the update. The old ones may go before the new ones pass the NLB's check,
            // so change HAProxy's config outside busy hours (or move the nodes to an ASG with instance refresh).
            userDataReplaceOnChange: true,
            ...hardened,
            tags: { ...tags, Name: `${fleetTag}-haproxy-${i}`, Role: "haproxy" },
          },
          parent,
        ),
      );
    }

    // ---------------------------------------------------------------- NLB
    const nlb = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        loadBalancerType: "network",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [nlbSg.id],
        enableCrossZoneLoadBalancing: true,
        enableDeletionProtection: args.deletionProtection ?? env === "prod",
        tags,
      },
      parent,
    );
    const tg = new aws.lb.TargetGroup(
      `${name}-haproxy`,
      {
        vpcId: args.vpcId,
        targetType: "instance",
        protocol: "TCP",
        port: listenPort,
        // Connections in flight to a replaced node get this long to finish.
        deregistrationDelay: Math.ceil(service.shutdownTimeoutMs / 1000),
        connectionTermination: false,
        healthCheck: { protocol: "TCP", port: String(listenPort), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
        tags,
      },
      parent,
    );
    nodes.forEach((node, i) => {
      new aws.lb.TargetGroupAttachment(`${name}-node-${i}`, { targetGroupArn: tg.arn, targetId: node.id, port: listenPort }, parent);
    });
    new aws.lb.Listener(
      `${name}-nlb`,
      args.certificateArn !== undefined
        ? {
            loadBalancerArn: nlb.arn,
            port: 443,
            protocol: "TLS",
            certificateArn: args.certificateArn,
            sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
            defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
          }
        : { loadBalancerArn: nlb.arn, port: 80, protocol: "TCP", defaultActions: [{ type: "forward", targetGroupArn: tg.arn }] },
      parent,
    );

    // ---------------------------------------------------------------- rollout through SSM
    const deploy = withDeployDefaults({ service });
    const script = renderDeployScript({ service });
    const document = new aws.ssm.Document(
      `${name}-deploy`,
      {
        documentType: "Command",
        documentFormat: "JSON",
        content: aws
          .getRegionOutput({}, parent)
          .region.apply((region) => JSON.stringify(deployDocument(script, deploy.readyTimeoutSec + 120, region), null, 2)),
        tags,
      },
      parent,
    );
    const association = new aws.ssm.Association(
      `${name}-rollout`,
      {
        name: document.name,
        targets: [{ key: "tag:Fleet", values: [fleetTag] }],
        parameters: { bundleUrl: args.bundleUrl, bundleSha256: args.bundleSha256, version: args.version },
        maxConcurrency: args.rolloutBatch ?? "1",
        // Stop at the first host that fails: it rolled itself back, the rest keep the old release.
        maxErrors: "0",
        applyOnlyAtCronInterval: false,
        complianceSeverity: "HIGH",
        // `pulumi up` returns only once every host runs the release (or fails when one could not).
        waitForSuccessTimeoutSeconds: args.fleetInstanceCount * (deploy.readyTimeoutSec + 180),
      },
      { parent: this, dependsOn: fleet },
    );

    this.nlbDnsName = nlb.dnsName;
    this.nlbArnSuffix = nlb.arnSuffix;
    this.url = pulumi.interpolate`${args.certificateArn !== undefined ? "https" : "http"}://${nlb.dnsName}`;
    this.nodeInstanceIds = pulumi.all(nodes.map((n) => n.id));
    this.fleetInstanceIds = pulumi.all(fleet.map((f) => f.id));
    this.fleetPrivateIps = pulumi.all(fleet.map((f) => f.privateIp));
    this.associationId = association.id;
    this.deployDocumentName = document.name;
    this.nodeSecurityGroupId = nodeSg.id;
    this.fleetSecurityGroupId = fleetSg.id;
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

/**
 * SSM Command document (schema 2.2) running the deploy script with the release's parameters. The
 * parameters' patterns are the script's own checks, so nothing but a URL, a hex digest and a version
 * id ever reaches the shell.
 */
export function deployDocument(script: string, timeoutSeconds: number, region: string): Record<string, unknown> {
  return {
    schemaVersion: "2.2",
    description: "Deploy one release of the service on this host: fetch, verify, switch, restart, wait for ready, roll back on failure.",
    parameters: {
      bundleUrl: { type: "String", description: "s3:// URL of the bundle", allowedPattern: "^s3://[a-z0-9][a-z0-9.-]{1,62}/[A-Za-z0-9/._-]+$" },
      bundleSha256: { type: "String", description: "sha256 of the bundle, hex", allowedPattern: "^[0-9a-f]{64}$" },
      version: { type: "String", description: "Release id", allowedPattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "deploy",
        inputs: {
          timeoutSeconds: String(timeoutSeconds),
          // SSM runs these lines with /bin/sh (dash on Debian): POSIX only; the script itself is bash.
          runCommand: [
            "set -eu",
            `export AWS_DEFAULT_REGION=${region}`,
            // A new instance gets the association while its first boot may still run: wait for it.
            "if command -v cloud-init >/dev/null 2>&1; then",
            "  rc=0; cloud-init status --wait >/dev/null || rc=$?",
            '  if [ "$rc" -eq 1 ]; then echo "cloud-init failed on this host: not deploying" >&2; exit 1; fi',
            "fi",
            'script="$(mktemp)"',
            'trap \'rm -f "$script"\' EXIT',
            "cat > \"$script\" <<'DEPLOY_SCRIPT_END'",
            ...script.replace(/\n$/, "").split("\n"),
            "DEPLOY_SCRIPT_END",
            'bash "$script" --source "{{ bundleUrl }}" --sha256 "{{ bundleSha256 }}" --version "{{ version }}"',
          ],
        },
      },
    ],
  };
}
