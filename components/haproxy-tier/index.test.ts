import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MockRecorder, settle, setupMocks, valueOf } from "../../test/support/pulumi-mocks";
import { HaproxyTier, HaproxyTierArgs } from "./index";
import { deployDocument } from "./rollout";
import { renderDeployScript } from "../../host/deploy/script";
import { withHostBaseDefaults } from "../../host/input";
import { renderSecretsScript } from "../../host/secrets";
import { secretsRevisionTagKey } from "../fleet/rules";
import { gunzipSync } from "node:zlib";

// One mock monitor for the file (a component's registerOutputs may arrive after its test ended).
let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
  // The shared mocks give instances no private IP; the discovery record is made of them.
  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const newResource = monitor.mocks.newResource.bind(monitor.mocks);
  let n = 0;
  monitor.mocks.newResource = (args: { type: string }) => {
    const r = newResource(args);
    if (args.type === "aws:ec2/instance:Instance") r.state.privateIp = `10.0.${Math.floor(n / 250)}.${(n++ % 250) + 4}`;
    return r;
  };
  // Resource options travel in the register request: keep each resource's ignoreChanges.
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    ignored.set(req.getName(), req.getIgnorechangesList());
    registered.set(`${req.getType()}::${req.getName()}`, {
      protect: req.getProtect(),
      dependencies: req.getDependenciesList(),
    });
    return register(req, cb);
  };
});
const ignored = new Map<string, string[]>();
/** Protect and explicit dependencies as each register request carried them, by "type::name". */
const registered = new Map<string, { protect: boolean; dependencies: string[] }>();
beforeEach(() => {
  mocks.clear();
  registered.clear();
});

const base = (env: string): HaproxyTierArgs => ({
  env,
  vpcId: "vpc-1",
  publicSubnetIds: ["subnet-pub-a", "subnet-pub-b"],
  privateSubnetIds: ["subnet-priv-a", "subnet-priv-b"],
  amiId: "ami-0123456789abcdef0",
  nodeUserData: "#cloud-config\n{}\n",
  fleetInstanceCount: 3,
  fleetUserData: "#cloud-config\n{}\n",
  fleetInstanceProfileName: "fleet-profile",
  nodeParameterArns: ["arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/prod/datadog-api-key"],
  bundleUrl: "s3://bundles-a1b2c3/releases/abc.js",
  bundleSha256: "a".repeat(64),
  version: "abc123",
});
// What the stack passes in prod (infra/stack.ts): no single point of failure, a protected NLB.
const prod = (): HaproxyTierArgs => ({
  ...base("prod"),
  highAvailability: true,
  nodeCount: 2,
  deletionProtection: true,
});

async function build(args: HaproxyTierArgs) {
  const tier = new HaproxyTier("tier", args);
  const out = {
    nlbDnsName: await valueOf(tier.nlbDnsName),
    url: await valueOf(tier.url),
    nodeGroupName: await valueOf(tier.nodeGroupName),
    fleetInstanceIds: await valueOf(tier.fleetInstanceIds),
    fleetPrivateIps: await valueOf(tier.fleetPrivateIps),
    associationId: await valueOf(tier.associationId),
    config: tier.haproxyConfig,
    fleetDnsName: tier.fleetDnsName,
  };
  await valueOf(tier.deployDocumentName);
  await settle();
  return out;
}

const count = (type: string) => mocks.ofType(type).length;
const nodes = () => mocks.ofType("aws:ec2/instance:Instance").filter((r) => r.inputs.tags?.Role === "haproxy");
const nodeGroup = () => mocks.one("aws:autoscaling/group:Group").inputs;
const fleet = () => mocks.ofType("aws:ec2/instance:Instance").filter((r) => r.inputs.tags?.Fleet !== undefined);

describe("HaproxyTier resource graph", () => {
  it("dev: one HAProxy node behind the NLB (same shape as prod, one node)", async () => {
    const out = await build(base("dev"));
    expect(nodeGroup()).toMatchObject({ minSize: 1, maxSize: 1, desiredCapacity: 1 });
    expect(fleet()).toHaveLength(3);
    expect(count("aws:lb/loadBalancer:LoadBalancer")).toBe(1);
    expect(count("aws:ssm/association:Association")).toBe(1);
    expect(count("aws:route53/record:Record")).toBe(1);
    expect(out.url).toBe(`http://${out.nlbDnsName}`);
    const nlb = mocks.one("aws:lb/loadBalancer:LoadBalancer").inputs;
    expect(nlb.enableDeletionProtection).toBe(false);
  });

  it("prod: two HAProxy nodes in two AZs behind an internet-facing cross-zone NLB", async () => {
    const out = await build({ ...prod(), certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" });
    expect(nodeGroup()).toMatchObject({ minSize: 2, maxSize: 2, desiredCapacity: 2 });
    expect([...nodeGroup().vpcZoneIdentifiers].sort()).toEqual(["subnet-priv-a", "subnet-priv-b"]);
    const nlb = mocks.one("aws:lb/loadBalancer:LoadBalancer").inputs;
    expect(nlb).toMatchObject({
      loadBalancerType: "network",
      internal: false,
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: true,
    });
    expect(nlb.subnets).toEqual(["subnet-pub-a", "subnet-pub-b"]);
    const listener = mocks.one("aws:lb/listener:Listener").inputs;
    expect(listener).toMatchObject({ port: 443, protocol: "TLS" });
    expect(out.url).toMatch(/^https:\/\//);
    expect(out.nodeGroupName).toBe("tier-nodes-x1");
    expect(out.fleetInstanceIds).toHaveLength(3);
    expect(out.associationId).toBeDefined();
  });

  it("NLB health check: HTTP on the node's health URI, which fails when the node has no usable service host", async () => {
    // NLB target groups take HTTP checks with a path and a 200 matcher
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html);
    // the URI is HAProxy's monitor-uri (host/haproxy/config.ts healthFrontend).
    await build(prod());
    const tg = mocks.one("aws:lb/targetGroup:TargetGroup").inputs;
    expect(tg).toMatchObject({ protocol: "TCP", port: 8080 });
    expect(tg.healthCheck).toMatchObject({ protocol: "HTTP", port: "8405", path: "/haproxy-health", matcher: "200" });
    expect(tg.healthCheck.timeout).toBeLessThan(tg.healthCheck.interval);
  });

  it("HAProxy nodes: an Auto Scaling group in the NLB's target group; a replaced node leaves only after its successor is healthy there", async () => {
    // Launch before terminate: the instance maintenance policy and the refresh keep 100% of the nodes healthy
    // and launch the new one first (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html,
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html); health is the NLB's
    // check (healthCheckType ELB), which the health URI fails while the node reaches no service host.
    await build(prod());
    const g = nodeGroup();
    expect(nodes()).toEqual([]);
    expect(count("aws:lb/targetGroupAttachment:TargetGroupAttachment")).toBe(0);
    expect(g.targetGroupArns).toEqual([expect.stringContaining("targetgroup/tier-haproxy/")]);
    expect(g).toMatchObject({ healthCheckType: "ELB", minElbCapacity: 2 });
    expect(g.healthCheckGracePeriod).toBeGreaterThanOrEqual(300);
    expect(g.instanceMaintenancePolicy).toEqual({ minHealthyPercentage: 100, maxHealthyPercentage: 150 });
    expect(g.instanceRefresh).toMatchObject({
      strategy: "Rolling",
      preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 150, skipMatching: false },
    });
    // A config or image change is a new launch template version: the group rolls it, nothing replaces the nodes outright.
    const lt = mocks.one("aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(g.launchTemplate).toEqual({ id: "tier-node-id", version: "1" });
    expect(lt).toMatchObject({
      imageId: "ami-0123456789abcdef0",
      instanceType: "t3.small",
      updateDefaultVersion: true,
    });
    expect(gunzipSync(Buffer.from(lt.userData, "base64")).toString("utf8")).toBe("#cloud-config\n{}\n");
    expect(lt.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(lt.networkInterfaces[0]).toMatchObject({
      associatePublicIpAddress: "false",
      securityGroups: ["tier-node-id"],
    });
    expect(lt.blockDeviceMappings[0]).toMatchObject({
      deviceName: "/dev/xvda",
      ebs: { volumeType: "gp3", encrypted: "true" },
    });
    expect(lt.iamInstanceProfile).toEqual({ arn: "arn:aws:iam::123456789012:instance-profile/tier-node-x1" });
    const tags = Object.fromEntries(
      g.tags.map((t: { key: string; value: string; propagateAtLaunch: boolean }) => [
        t.key,
        [t.value, t.propagateAtLaunch],
      ]),
    );
    expect(tags).toMatchObject({
      Name: ["sample-api-prod-haproxy", true],
      Role: ["haproxy", true],
      Env: ["prod", true],
    });
  });

  it("service hosts: a new image never replaces them all at once; fleetImageRolloutHosts moves the listed ones to it", async () => {
    // ignoreChanges keeps the value the stack state holds for an existing resource, even for a replace
    // (pulumi/pulumi pkg/resource/deploy/step_generator.go: processIgnoreChanges on every resource with old
    // state), so a host leaves its image only while it is listed here.
    await build(prod());
    for (const i of [0, 1, 2])
      expect(ignored.get(`tier-fleet-${i}`)?.sort(), `host ${i}`).toEqual(["ami", "userData", "userDataBase64"]);
    mocks.clear();
    ignored.clear();
    await build({ ...prod(), fleetImageRolloutHosts: [1] });
    expect(ignored.get("tier-fleet-0")?.sort()).toEqual(["ami", "userData", "userDataBase64"]);
    expect(ignored.get("tier-fleet-1")).toEqual(["userData", "userDataBase64"]);
    expect(ignored.get("tier-fleet-2")?.sort()).toEqual(["ami", "userData", "userDataBase64"]);
  });

  it("every instance: IMDSv2 with hop limit 1, encrypted gp3, no public IP, no SSH key", async () => {
    await build(prod());
    const all = mocks.ofType("aws:ec2/instance:Instance");
    expect(all).toHaveLength(3);
    for (const i of all) {
      expect(i.inputs.metadataOptions, i.name).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(i.inputs.rootBlockDevice, i.name).toMatchObject({ volumeType: "gp3", encrypted: true });
      expect(i.inputs.associatePublicIpAddress, i.name).toBe(false);
      expect(i.inputs.keyName, i.name).toBeUndefined();
    }
    // The node role: the SSM agent's own inline policy, no managed policy (AmazonSSMManagedInstanceCore reads every parameter).
    expect(mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    expect(
      mocks
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["tier-node-params", "tier-node-ssm-agent"]);
  });

  it("node role: reads the boot parameters and decrypts them with the secrets key, through SSM only", async () => {
    const kmsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/secrets-0000";
    await build({ ...prod(), kmsKeyArn });
    const policy = mocks.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "tier-node-params")!;
    expect(JSON.parse(policy.inputs.policy).Statement).toContainEqual(
      expect.objectContaining({
        Action: "kms:Decrypt",
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
      }),
    );
  });

  it("rollout: SSM association by fleet tag, one host at a time, stops at the first error, re-runs on new parameters", async () => {
    await build({ ...prod(), version: "v2", bundleSha256: "b".repeat(64) });
    const a = mocks.one("aws:ssm/association:Association").inputs;
    expect(a.maxConcurrency).toBe("1");
    expect(a.maxErrors).toBe("0");
    expect(a.applyOnlyAtCronInterval).toBe(false);
    expect(a.scheduleExpression).toBeUndefined();
    expect(a.targets).toEqual([{ key: "tag:Fleet", values: ["sample-api-prod"] }]);
    expect(a.parameters).toEqual({
      bundleUrl: "s3://bundles-a1b2c3/releases/abc.js",
      bundleSha256: "b".repeat(64),
      version: "v2",
    });
    expect(a.waitForSuccessTimeoutSeconds).toBeGreaterThan(0);
    for (const f of fleet()) expect(f.inputs.tags.Fleet).toBe("sample-api-prod");

    const doc = mocks.one("aws:ssm/document:Document").inputs;
    expect(doc.documentType).toBe("Command");
    const content = JSON.parse(doc.content);
    expect(content.schemaVersion).toBe("2.2");
    expect(Object.keys(content.parameters).sort()).toEqual(["bundleSha256", "bundleUrl", "version"]);
    const run: string[] = content.mainSteps[0].inputs.runCommand;
    expect(run.at(-1)).toBe(
      'bash "$script" --source "{{ bundleUrl }}" --sha256 "{{ bundleSha256 }}" --version "{{ version }}"',
    );
  });

  it("secret rotation: a new revision changes the rollout's parameter and the nodes' template data, nothing else", async () => {
    const secrets = {
      secretsRevision: "datadog-api-key:1/papertrail-destination:1",
      fleetSecretsScript: renderSecretsScript(withHostBaseDefaults({ env: "prod" })),
    };
    await build({ ...prod(), ...secrets });
    // The mocks hand out new private IPs on every build: the discovery record's addresses are left out.
    const snapshot = () =>
      new Map(
        mocks.resources.map((r) => [
          `${r.type}::${r.name}`,
          JSON.stringify({ ...r.inputs, ...(r.type === "aws:route53/record:Record" ? { records: [] } : {}) }),
        ]),
      );
    const before = snapshot();
    const a = mocks.one("aws:ssm/association:Association").inputs;
    expect(a.parameters).toEqual({
      bundleUrl: "s3://bundles-a1b2c3/releases/abc.js",
      bundleSha256: "a".repeat(64),
      version: "abc123",
      secretsRevision: secrets.secretsRevision,
    });
    expect(a).toMatchObject({ maxConcurrency: "1", maxErrors: "0" });
    const content = JSON.parse(mocks.one("aws:ssm/document:Document").inputs.content);
    expect(new RegExp(content.parameters.secretsRevision.allowedPattern).test(secrets.secretsRevision)).toBe(true);
    expect(new RegExp(content.parameters.secretsRevision.allowedPattern).test("a:1;reboot")).toBe(false);
    const run: string[] = content.mainSteps[0].inputs.runCommand;
    expect(run.slice(-3)).toEqual([
      'echo "secrets revision {{ secretsRevision }}"',
      'bash "$secrets" --restart',
      'bash "$script" --source "{{ bundleUrl }}" --sha256 "{{ bundleSha256 }}" --version "{{ version }}"',
    ]);
    // the nodes: the revision is an instance tag of the template's data (a new version), not the group's tags
    const lt = () => mocks.one("aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(lt().tagSpecifications[0]).toMatchObject({
      resourceType: "instance",
      tags: { Role: "haproxy", [secretsRevisionTagKey]: secrets.secretsRevision },
    });
    expect(nodeGroup().tags.map((t: { key: string }) => t.key)).not.toContain(secretsRevisionTagKey);

    mocks.clear();
    await build({ ...prod(), ...secrets, secretsRevision: "datadog-api-key:2/papertrail-destination:1" });
    const after = snapshot();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    expect(changed.sort()).toEqual([
      "aws:ec2/launchTemplate:LaunchTemplate::tier-node",
      "aws:ssm/association:Association::tier-rollout",
    ]);
    expect(mocks.one("aws:ssm/association:Association").inputs.parameters.secretsRevision).toBe(
      "datadog-api-key:2/papertrail-destination:1",
    );
    expect(lt().tagSpecifications[0].tags[secretsRevisionTagKey]).toBe("datadog-api-key:2/papertrail-destination:1");

    // without a revision: no parameter, no tag, the document deploys only
    mocks.clear();
    await build(prod());
    expect(mocks.one("aws:ssm/association:Association").inputs.parameters.secretsRevision).toBeUndefined();
    expect(lt().tagSpecifications[0].tags[secretsRevisionTagKey]).toBeUndefined();
    expect(
      JSON.parse(mocks.one("aws:ssm/document:Document").inputs.content).parameters.secretsRevision,
    ).toBeUndefined();
  });

  it("a configurable batch size", async () => {
    await build({ ...prod(), rolloutBatch: "2" });
    expect(mocks.one("aws:ssm/association:Association").inputs.maxConcurrency).toBe("2");
  });

  it("the document's parameter patterns refuse shell metacharacters", async () => {
    await build(base("dev"));
    const p = JSON.parse(mocks.one("aws:ssm/document:Document").inputs.content).parameters;
    const ok = (k: string, v: string) => new RegExp(p[k].allowedPattern).test(v);
    expect(ok("bundleUrl", "s3://bundles-a1b2c3/releases/abc.js")).toBe(true);
    expect(ok("bundleUrl", 's3://b/x";reboot;"')).toBe(false);
    expect(ok("bundleSha256", "a".repeat(64))).toBe(true);
    expect(ok("bundleSha256", "$(id)")).toBe(false);
    expect(ok("version", "v1.2.3")).toBe(true);
    expect(ok("version", "v1 && reboot")).toBe(false);
  });

  it("security groups: NLB -> HAProxy port, HAProxy -> service port on the fleet, nothing else inbound; every rule described", async () => {
    await build(prod());
    const sgId = (suffix: string) => `tier-${suffix}-id`;
    const ingress = mocks.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    const egress = mocks.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs);
    for (const r of [...ingress, ...egress]) expect(r.description, JSON.stringify(r)).toMatch(/\S{3}/);
    const into = (sg: string) => ingress.filter((r) => r.securityGroupId === sgId(sg));
    expect(into("node")).toEqual([
      expect.objectContaining({ referencedSecurityGroupId: sgId("nlb"), fromPort: 8080, toPort: 8080 }),
      expect.objectContaining({ referencedSecurityGroupId: sgId("nlb"), fromPort: 8405, toPort: 8405 }),
    ]);
    expect(
      egress.filter((r) => r.securityGroupId === sgId("nlb")).map((r) => [r.referencedSecurityGroupId, r.fromPort]),
    ).toEqual([
      [sgId("node"), 8080],
      [sgId("node"), 8405],
    ]);
    expect(into("fleet")).toEqual([
      expect.objectContaining({ referencedSecurityGroupId: sgId("node"), fromPort: 3000, toPort: 3000 }),
    ]);
    expect(into("nlb").map((r) => r.cidrIpv4)).toEqual(["0.0.0.0/0"]);
    expect(into("nlb")[0]).toMatchObject({ fromPort: 80, toPort: 80 });
    expect(egress.filter((r) => r.referencedSecurityGroupId === sgId("fleet"))).toEqual([
      expect.objectContaining({ securityGroupId: sgId("node"), fromPort: 3000 }),
    ]);
  });

  it("discovery: a private zone of the VPC, one A record holding every fleet instance's private IP", async () => {
    const out = await build(prod());
    const zone = mocks.one("aws:route53/zone:Zone").inputs;
    expect(zone.name).toBe("sample-api.prod.internal");
    expect(zone.vpcs).toEqual([{ vpcId: "vpc-1" }]);
    const rec = mocks.one("aws:route53/record:Record").inputs;
    expect(rec).toMatchObject({ name: "fleet.sample-api.prod.internal", type: "A" });
    expect(rec.ttl).toBeLessThanOrEqual(30);
    expect(rec.records).toHaveLength(3);
    expect(rec.records).toEqual(out.fleetPrivateIps);
    for (const ip of rec.records) expect(ip).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(fleet().map((f) => f.inputs.subnetId)).toEqual(["subnet-priv-a", "subnet-priv-b", "subnet-priv-a"]);
  });

  it("rendered haproxy.cfg: server-template over the fleet record through the VPC resolver; haproxy -c accepts it", async () => {
    const out = await build(prod());
    expect(out.config).toContain(
      "server-template app 6 fleet.sample-api.prod.internal:3000 resolvers vpc resolve-prefer ipv4 init-addr last,none",
    );
    expect(out.config).toMatch(/resolvers vpc\n\s+nameserver dns1 169\.254\.169\.253:53/);
    expect(out.config).toMatch(/bind 0\.0\.0\.0:8080\n/);
    const haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].find((p) => {
      try {
        execFileSync(p, ["-v"]);
        return true;
      } catch {
        return false;
      }
    });
    if (!haproxy) throw new Error("haproxy not found: apt-get install -y haproxy");
    const dir = mkdtempSync(join(tmpdir(), "tier-haproxy-"));
    try {
      const cfg = join(dir, "haproxy.cfg");
      // The state file and socket paths are the host's; -c only parses, it opens neither.
      writeFileSync(cfg, out.config);
      execFileSync(haproxy, ["-c", "-f", cfg], { stdio: "pipe" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("NLB access logs", () => {
  const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/x";
  const logged = (): HaproxyTierArgs => ({
    ...prod(),
    certificateArn,
    accessLogs: true,
    accessLogRetentionDays: 365,
    protectAccessLogs: true,
    serverAccessLogBucket: "access-logs-bucket",
  });
  const bucketParts = [
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLogging:BucketLogging",
  ];

  it("off by default: no bucket, and the NLB does not log", async () => {
    await build({ ...prod(), certificateArn });
    expect(count("aws:s3/bucket:Bucket")).toBe(0);
    expect(mocks.one("aws:lb/loadBalancer:LoadBalancer").inputs.accessLogs).toBeUndefined();
  });

  it("on: the NLB logs into a private, versioned, expiring bucket, turned on after the bucket's policy", async () => {
    await build(logged());
    for (const type of bucketParts) expect(mocks.one(type).name, type).toBe("tier-nlb-logs");
    const nlb = mocks.one("aws:lb/loadBalancer:LoadBalancer").inputs;
    // The bucket by its name (the mocks name it after the resource plus a suffix, as AWS would).
    expect(nlb.accessLogs).toEqual({ bucket: "tier-nlb-logs-a1b2c3", enabled: true, prefix: "" });
    expect(registered.get("aws:lb/loadBalancer:LoadBalancer::tier-nlb")!.dependencies.join()).toMatch(
      /bucketPolicy:BucketPolicy::tier-nlb-logs/,
    );
    expect(mocks.one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).toEqual({
      status: "Enabled",
    });
    const [expire] = mocks.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules;
    expect(expire).toMatchObject({ status: "Enabled", expiration: { days: 365 } });
    // SSE-S3: one of the two encryptions NLB log delivery accepts.
    expect(
      mocks.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs
        .rules[0].applyServerSideEncryptionByDefault,
    ).toEqual({ sseAlgorithm: "AES256" });
    expect(mocks.one("aws:s3/bucketLogging:BucketLogging").inputs).toMatchObject({
      targetBucket: "access-logs-bucket",
      targetPrefix: "s3-access/tier-nlb-logs/",
    });
  });

  it("the bucket policy lets only the log delivery service write, for this account's deliveries in this region, with the owner's ACL", async () => {
    await build(logged());
    const { Statement } = JSON.parse(mocks.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    const arn = "arn:aws:s3:::tier-nlb-logs-a1b2c3";
    const onBehalf = {
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*" },
    };
    const principal = { Service: "delivery.logs.amazonaws.com" };
    expect(Statement.slice(0, 2)).toEqual([
      {
        Sid: "NlbLogDeliveryAclCheck",
        Effect: "Allow",
        Principal: principal,
        Action: "s3:GetBucketAcl",
        Resource: arn,
        Condition: onBehalf,
      },
      {
        Sid: "NlbLogDelivery",
        Effect: "Allow",
        Principal: principal,
        Action: "s3:PutObject",
        Resource: `${arn}/AWSLogs/123456789012/*`,
        Condition: {
          ...onBehalf,
          StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": "123456789012" },
        },
      },
    ]);
    expect(Statement.slice(2).map((s: { Sid: string }) => s.Sid)).toEqual(["DenyInsecureTransport", "DenyOutdatedTls"]);
  });

  it("protectAccessLogs protects the bucket and its parts, nothing else of the tier, and keeps destroy from emptying it", async () => {
    await build(logged());
    const protectedOnes = [...registered].filter(([, r]) => r.protect).map(([k]) => k.split("::")[0]);
    expect(protectedOnes.sort()).toEqual([...bucketParts].sort());
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(false);
    registered.clear();
    mocks.clear();
    await build({ ...logged(), protectAccessLogs: false });
    expect([...registered.values()].filter((r) => r.protect)).toEqual([]);
    expect(mocks.one("aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(true);
  });
});

describe("deploy document", () => {
  it("its shell wrapper passes shellcheck as POSIX sh and hands the deploy script over byte for byte", () => {
    const script = renderDeployScript({});
    const run: string[] = (deployDocument(script, 300, "eu-west-1") as any).mainSteps[0].inputs.runCommand;
    const dir = mkdtempSync(join(tmpdir(), "tier-ssm-"));
    try {
      const wrapper = join(dir, "wrapper.sh");
      // What SSM runs, with its parameters filled in; the last line prints the script instead of running it.
      const filled = run
        .join("\n")
        .replace("{{ bundleUrl }}", "s3://b-1/releases/x.js")
        .replace("{{ bundleSha256 }}", "a".repeat(64))
        .replace("{{ version }}", "v1");
      writeFileSync(wrapper, `${filled}\n`);
      try {
        execFileSync("shellcheck", ["--version"], { stdio: "pipe" });
      } catch {
        throw new Error("shellcheck not found: apt-get install -y shellcheck");
      }
      execFileSync("shellcheck", ["-s", "sh", wrapper], { stdio: "pipe" });
      expect(filled).toContain("export AWS_DEFAULT_REGION=eu-west-1");
      const printing = `${run.slice(0, -1).join("\n")}\ncat "$script"\n`;
      writeFileSync(wrapper, printing);
      // A stand-in cloud-init on PATH: first boot finished (0), or failed (1).
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const fakeCloudInit = (rc: number) =>
        writeFileSync(join(bin, "cloud-init"), `#!/bin/sh\nexit ${rc}\n`, { mode: 0o755 });
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      fakeCloudInit(0);
      expect(execFileSync("sh", [wrapper], { encoding: "utf8", env })).toBe(script);
      fakeCloudInit(1);
      const failed = spawnSync("sh", [wrapper], { encoding: "utf8", env });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain("cloud-init failed on this host");
      expect(failed.stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deploy document with the secrets script", () => {
  it("runs the secrets script with --restart, then the deploy step; a refused secret stops the host before its restart", () => {
    const dir = mkdtempSync(join(tmpdir(), "tier-ssm-"));
    try {
      const calls = join(dir, "calls");
      // Stand-in scripts that record how they were run; the wrapper is what SSM runs, parameters filled in.
      const stub = (name: string, rc: string) => `#!/bin/bash\necho "${name} $*" >> ${calls}\nexit ${rc}\n`;
      const wrapper = (secretsRc: string) =>
        (
          (deployDocument(stub("deploy", "0"), 600, "eu-west-1", stub("secrets", secretsRc)) as any).mainSteps[0].inputs
            .runCommand as string[]
        )
          .join("\n")
          .replace("{{ secretsRevision }}", "datadog-api-key:2/papertrail-destination:1")
          .replace("{{ bundleUrl }}", "s3://b-1/releases/x.js")
          .replace("{{ bundleSha256 }}", "a".repeat(64))
          .replace("{{ version }}", "v1");
      const bin = join(dir, "bin");
      mkdirSync(bin);
      writeFileSync(join(bin, "cloud-init"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      writeFileSync(join(dir, "ok.sh"), wrapper("0"));
      execFileSync("shellcheck", ["-s", "sh", join(dir, "ok.sh")], { stdio: "pipe" });
      const ok = spawnSync("sh", [join(dir, "ok.sh")], { encoding: "utf8", env });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe("secrets revision datadog-api-key:2/papertrail-destination:1\n");
      expect(readFileSync(calls, "utf8")).toBe(
        `secrets --restart\ndeploy --source s3://b-1/releases/x.js --sha256 ${"a".repeat(64)} --version v1\n`,
      );
      rmSync(calls);
      writeFileSync(join(dir, "refused.sh"), wrapper("1"));
      const refused = spawnSync("sh", [join(dir, "refused.sh")], { encoding: "utf8", env });
      expect(refused.status).toBe(1);
      expect(readFileSync(calls, "utf8")).toBe("secrets --restart\n");
      // both scripts' temporary files are gone
      expect(readdirSync(dir).sort()).toEqual(["bin", "calls", "ok.sh", "refused.sh"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a script holding {{, which SSM would fill in as a parameter", () => {
    expect(() => deployDocument("#!/bin/bash\n", 60, "eu-west-1", "echo {{ x }}\n")).toThrow(
      /the secrets script holds "\{\{"/,
    );
  });
});

describe("HaproxyTier: bad input", () => {
  it.each([
    [{ env: "prod", highAvailability: true, nodeCount: 1 }, "nodeCount: 1 with highAvailability; at least 2"],
    [
      { env: "prod", highAvailability: true, nodeCount: 2, privateSubnetIds: ["subnet-a"] },
      "privateSubnetIds: 1 with highAvailability; at least 2",
    ],
    [{ env: "dev", fleetInstanceCount: 0 }, "fleetInstanceCount: 0 must be a positive integer"],
    [{ env: "dev", serverSlots: 2 }, "serverSlots: 2 must be at least fleetInstanceCount (3)"],
    [
      { env: "dev", fleetImageRolloutHosts: [0, 1, 2] },
      "fleetImageRolloutHosts: 3 of 3 hosts at once; leave at least one serving",
    ],
    [{ env: "dev", fleetImageRolloutHosts: [3] }, "fleetImageRolloutHosts: 3 is not a host index (0-2)"],
    [{ env: "dev", accessLogs: true }, "accessLogs: an NLB logs TLS connections only"],
  ])("refuses %j", async (extra, message) => {
    const make = () => new HaproxyTier("bad", { ...base(String(extra.env)), ...(extra as Partial<HaproxyTierArgs>) });
    expect(make).toThrow(message);
    // RunError: the CLI prints the message alone, no stack trace.
    expect(make).toThrow(pulumi.RunError);
  });
});
