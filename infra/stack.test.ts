// The real stack program under Pulumi mocks, once per stack file, asserting on what `pulumi up` would create.
import * as fs from "node:fs";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  MOCK_AMI_ID,
  MockRecorder,
  RecordedResource,
  clearTextPaths,
  isSecretOnWire,
  runProgram,
  setupMocks,
} from "../test/support/pulumi-mocks";
import { debianOwnerId } from "../components/fleet";
import { secretKeys } from "./config";
import { defaultBootBudget } from "../contract/boot";
import { createStack } from "./stack";
import { secretMarker, stackFileConfig, tempBundle } from "../test/support/stack-config";

const disposers: (() => void)[] = [];
afterEach(() => {
  while (disposers.length) disposers.pop()!();
});

function bundleFile(content: string): string {
  const b = tempBundle(content);
  disposers.push(b.dispose);
  return b.file;
}

async function run(stack: string, bundlePath: string, overrides: Record<string, unknown> = {}) {
  const { config, secretKeys: secretConfigKeys } = stackFileConfig(stack, overrides);
  const rec = await setupMocks({ config, secretKeys: secretConfigKeys, stack });
  const { outputs, options } = await runProgram(() => ({ ...createStack({ bundlePath }) }));
  return { rec, outputs, options };
}

const named = (rec: MockRecorder, type: string, name: string): RecordedResource => {
  const r = rec.resources.find((x) => x.type === type && x.name === name);
  if (!r)
    throw new Error(
      `no ${type} named ${name}; have ${rec
        .ofType(type)
        .map((x) => x.name)
        .join(", ")}`,
    );
  return r;
};
const countByType = (rec: MockRecorder) => {
  const counts: Record<string, number> = {};
  for (const r of rec.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
};

const expected = {
  dev: {
    azs: 2,
    nats: 1,
    min: 1,
    max: 2,
    rootGb: 8,
    https: false,
    warmPool: false,
    deletionProtection: false,
    protect: false,
    image: { name: "name", values: ["debian-12-amd64-*"] },
    checkpoints: [100],
    logDays: 7,
    vpcPrivate: false,
    s3AccessLogs: false,
  },
  prod: {
    azs: 3,
    nats: 3,
    min: 3,
    max: 9,
    rootGb: 20,
    https: true,
    warmPool: true,
    deletionProtection: true,
    protect: true,
    image: { name: "image-id", values: ["ami-00000000000000000"] },
    checkpoints: [34, 67, 100],
    logDays: 365,
    vpcPrivate: true,
    s3AccessLogs: true,
  },
} as const;

describe.each(["dev", "prod"] as const)("stack %s under mocks", (stack) => {
  const e = expected[stack];

  it("creates the expected resources with the properties the issue names", async () => {
    const content = `console.log("bundle of ${stack}")\n`;
    const { rec, outputs, options } = await run(stack, bundleFile(content));
    const sha = createHash("sha256").update(content).digest("hex");

    // Counts per type of the resources this project's components own.
    const counts = countByType(rec);
    expect(counts).toMatchObject({
      "node-service-aws:index:Network": 1,
      "node-service-aws:index:Bundle": 1,
      "node-service-aws:index:Secrets": 1,
      "node-service-aws:index:Alb": 1,
      "node-service-aws:index:Fleet": 1,
      "node-service-aws:index:Observability": 1,
      "aws:ec2/vpc:Vpc": 1,
      "aws:ec2/subnet:Subnet": 2 * e.azs,
      "aws:ec2/natGateway:NatGateway": e.nats,
      "aws:ec2/eip:Eip": e.nats,
      "aws:ec2/routeTable:RouteTable": 1 + e.azs,
      "aws:ec2/routeTableAssociation:RouteTableAssociation": 2 * e.azs,
      "aws:ec2/internetGateway:InternetGateway": 1,
      // bundle, ALB access logs, and in prod the S3 server access log bucket; all versioned (S3.14)
      "aws:s3/bucket:Bucket": e.s3AccessLogs ? 3 : 2,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": e.s3AccessLogs ? 3 : 2,
      "aws:s3/bucketVersioning:BucketVersioning": e.s3AccessLogs ? 3 : 2,
      // the release and the Node runtime beside it
      "aws:s3/bucketObjectv2:BucketObjectv2": 2,
      "aws:ssm/parameter:Parameter": 2,
      "aws:lb/loadBalancer:LoadBalancer": 1,
      "aws:lb/targetGroup:TargetGroup": 1,
      "aws:lb/listener:Listener": e.https ? 2 : 1,
      "aws:ec2/securityGroup:SecurityGroup": e.vpcPrivate ? 3 : 2,
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (e.https ? 2 : 1) + 1 + (e.vpcPrivate ? 1 : 0),
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 3,
      "aws:ec2/launchTemplate:LaunchTemplate": 1,
      "aws:autoscaling/group:Group": 1,
      "aws:autoscaling/policy:Policy": 1,
      "aws:iam/instanceProfile:InstanceProfile": 1,
    });
    expect(counts["aws:cloudwatch/metricAlarm:MetricAlarm"]).toBeGreaterThan(0);
    expect(counts["datadog:index/monitor:Monitor"]).toBeGreaterThan(0);

    // Network: private subnets for the fleet, no public IPs handed out.
    for (const s of rec.ofType("aws:ec2/subnet:Subnet")) expect(s.inputs.mapPublicIpOnLaunch ?? false).toBe(false);
    // S3 through a gateway endpoint everywhere, an empty default SG; prod: the AWS APIs through interface endpoints, flow logs.
    const endpoints = rec.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.filter((x) => x.inputs.vpcEndpointType === "Gateway").map((x) => x.inputs.serviceName)).toEqual([
      "com.amazonaws.us-east-1.s3",
    ]);
    expect(endpoints.filter((x) => x.inputs.vpcEndpointType === "Interface")).toHaveLength(e.vpcPrivate ? 6 : 0);
    expect(rec.ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")).toHaveLength(1);
    expect(rec.ofType("aws:ec2/flowLog:FlowLog")).toHaveLength(e.vpcPrivate ? 1 : 0);

    // Launch template: IMDSv2 only with hop limit 1, encrypted gp3 root, no public IP, Debian image, user-data from the host renderers.
    const lt = named(rec, "aws:ec2/launchTemplate:LaunchTemplate", "sample-api-lt");
    expect(lt.inputs.metadataOptions).toMatchObject({
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      httpEndpoint: "enabled",
    });
    expect(lt.inputs.blockDeviceMappings[0].ebs).toMatchObject({
      volumeType: "gp3",
      encrypted: "true",
      volumeSize: e.rootGb,
    });
    expect(lt.inputs.networkInterfaces[0]).toMatchObject({ associatePublicIpAddress: "false" });
    expect(lt.inputs.imageId).toBe(MOCK_AMI_ID);
    // Secret rotation: the instances carry the parameters' versions (never a value), so a new value is a new
    // launch template version the instance refresh rolls out (components/fleet FleetArgs.secretsRevision).
    expect(lt.inputs.tagSpecifications[0]).toMatchObject({
      resourceType: "instance",
      tags: { "node-service-aws:secrets-revision": "datadog-api-key:1/papertrail-destination:1" },
    });
    const ami = rec.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs.owners).toEqual([debianOwnerId]);
    // Dev follows the newest Debian 12; prod is pinned by id, and a pinned image stays found once deprecated.
    expect(ami.inputs.filters).toContainEqual(e.image);
    expect(ami.inputs.includeDeprecated).toBe(true);
    // What EC2 is given: gzip within its 16 KB limit, which cloud-init unpacks to the cloud-config.
    const sent = Buffer.from(lt.inputs.userData, "base64");
    expect(sent.length).toBeLessThanOrEqual(16 * 1024);
    const userData = gunzipSync(sent).toString("utf8");
    expect(userData.startsWith("#cloud-config")).toBe(true);
    expect(userData).toContain(`releases/${sha}.js`);
    expect(userData).toContain(`/sample-api/${stack}/datadog-api-key`);

    // ASG: numbered launch template version, ELB health, refresh that launches before terminating and rolls back on alarms.
    const asg = rec.one("aws:autoscaling/group:Group");
    expect(asg.inputs.launchTemplate.version).toBe("1");
    expect(asg.inputs).toMatchObject({
      minSize: e.min,
      maxSize: e.max,
      healthCheckType: "ELB",
      healthCheckGracePeriod: defaultBootBudget.healthCheckGracePeriodSec,
    });
    expect(asg.inputs.vpcZoneIdentifiers).toHaveLength(e.azs);
    const privateIds = rec
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.includes("private"))
      .map((s) => `${s.name}-id`);
    expect([...asg.inputs.vpcZoneIdentifiers].sort()).toEqual(privateIds.sort());
    const prefs = asg.inputs.instanceRefresh.preferences;
    expect(asg.inputs.instanceRefresh.strategy).toBe("Rolling");
    expect(prefs).toMatchObject({
      minHealthyPercentage: 100,
      autoRollback: true,
      instanceWarmup: "120",
      checkpointPercentages: e.checkpoints,
    });
    expect(prefs.maxHealthyPercentage).toBeGreaterThan(100);
    const alarmNames = rec.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name ?? `${a.name}-x1`);
    expect(prefs.alarmSpecification.alarms.length).toBeGreaterThan(0);
    for (const a of prefs.alarmSpecification.alarms) expect(alarmNames).toContain(a);
    expect(asg.inputs.targetGroupArns).toEqual([expect.stringContaining("targetgroup/sample-api-tg/")]);
    expect(Boolean(asg.inputs.warmPool)).toBe(e.warmPool);
    expect(options.get("aws:autoscaling/group:Group::sample-api-asg")?.ignoreChanges).toContain("desiredCapacity");

    // The fleet's CPU alarm watches the ASG by its name, which exists only once the ASG does, while the ASG's
    // refresh needs the rollback alarms first: no cycle, the CPU alarm is not a rollback alarm.
    const cpu = named(rec, "aws:cloudwatch/metricAlarm:MetricAlarm", "sample-api-asg-cpu");
    expect(cpu.inputs).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: "sample-api-asg-x1" },
    });
    expect(prefs.alarmSpecification.alarms).not.toContain("sample-api-asg-cpu-x1");

    const policy = rec.one("aws:autoscaling/policy:Policy");
    expect(policy.inputs.policyType).toBe("TargetTrackingScaling");
    expect(policy.inputs.targetTrackingConfiguration.predefinedMetricSpecification).toEqual({
      predefinedMetricType: "ALBRequestCountPerTarget",
      resourceLabel: expect.stringMatching(/^app\/sample-api\/\w+\/targetgroup\/sample-api-tg\/\w+$/),
    });

    // Instance role: the SSM agent's own calls (no managed policy), only this bundle's releases, only these parameters, kms only via SSM.
    expect(rec.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    expect(named(rec, "aws:iam/rolePolicy:RolePolicy", "sample-api-ssm-agent").inputs.role).toBe("sample-api-role-id");
    const statements = JSON.parse(
      named(rec, "aws:iam/rolePolicy:RolePolicy", "sample-api-service").inputs.policy,
    ).Statement;
    const bucketArn = `arn:aws:s3:::sample-api-bucket-a1b2c3`;
    expect(statements).toEqual([
      expect.objectContaining({
        Action: "s3:GetObject",
        Resource: [`${bucketArn}/releases/*`, `${bucketArn}/runtimes/*`],
      }),
      expect.objectContaining({
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: [
          `arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/${stack}/datadog-api-key`,
          `arn:aws:ssm:us-east-1:123456789012:parameter/sample-api/${stack}/papertrail-destination`,
        ],
      }),
      expect.objectContaining({
        Action: "kms:Decrypt",
        Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
      }),
      // The Datadog agent's collect_ec2_tags falls back to the EC2 API when metadata has no tags.
      expect.objectContaining({ Action: "ec2:DescribeTags", Resource: "*" }),
    ]);
    expect(lt.inputs.metadataOptions.instanceMetadataTags).toBe("enabled");

    // Security groups: instances take the service port from the LB SG only; the LB takes 80/443 from the allowed CIDRs; all described.
    const ingress = rec.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const fromLb = ingress.filter((r) => r.inputs.referencedSecurityGroupId);
    expect(fromLb).toHaveLength(1);
    expect(fromLb[0]!.inputs).toMatchObject({
      referencedSecurityGroupId: "sample-api-lb-id",
      securityGroupId: "sample-api-instances-id",
      fromPort: 3000,
      toPort: 3000,
    });
    expect(
      ingress
        .filter((r) => r.inputs.cidrIpv4 && r.name !== "sample-api-endpoints-https")
        .map((r) => [r.inputs.securityGroupId, r.inputs.fromPort])
        .sort(),
    ).toEqual(
      e.https
        ? [
            ["sample-api-lb-id", 443],
            ["sample-api-lb-id", 80],
          ]
        : [["sample-api-lb-id", 80]],
    );
    for (const r of [...ingress, ...rec.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")])
      expect(r.inputs.description).toMatch(/\w{5,}/);

    // Load balancer, listeners and target group.
    const lb = rec.one("aws:lb/loadBalancer:LoadBalancer");
    expect(lb.inputs).toMatchObject({
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      idleTimeout: 60,
      enableDeletionProtection: e.deletionProtection,
      internal: false,
    });
    expect(lb.inputs.accessLogs).toMatchObject({ enabled: true, bucket: "sample-api-logs-a1b2c3" });
    const tg = rec.one("aws:lb/targetGroup:TargetGroup");
    expect(tg.inputs).toMatchObject({ port: 3000, deregistrationDelay: 30, slowStart: stack === "prod" ? 60 : 30 });
    expect(tg.inputs.healthCheck).toMatchObject({ path: "/readyz", matcher: "200" });
    const listeners = rec.ofType("aws:lb/listener:Listener");
    if (e.https) {
      expect(listeners.find((l) => l.inputs.port === 443)!.inputs).toMatchObject({
        protocol: "HTTPS",
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      });
      expect(listeners.find((l) => l.inputs.port === 80)!.inputs.defaultActions[0]).toMatchObject({
        type: "redirect",
        redirect: { protocol: "HTTPS" },
      });
    } else {
      expect(listeners[0]!.inputs).toMatchObject({ port: 80, protocol: "HTTP", defaultActions: [{ type: "forward" }] });
    }
    const logPolicy = JSON.parse(named(rec, "aws:s3/bucketPolicy:BucketPolicy", "sample-api-logs").inputs.policy);
    expect(logPolicy.Statement[0]).toMatchObject({
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Resource: "arn:aws:s3:::sample-api-logs-a1b2c3/AWSLogs/123456789012/*",
    });
    expect(
      named(rec, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "sample-api-logs").inputs.rules[0]
        .expiration.days,
    ).toBe(e.logDays);

    // Bundle: private, versioned, encrypted, TLS only, content-hashed key.
    const object = named(rec, "aws:s3/bucketObjectv2:BucketObjectv2", "sample-api-release");
    expect(object.inputs.key).toBe(`releases/${sha}.js`);
    expect(
      named(rec, "aws:s3/bucketVersioning:BucketVersioning", "sample-api-versioning").inputs.versioningConfiguration
        .status,
    ).toBe("Enabled");
    // SSE-KMS under the release key (S3.17); in prod the bundle and ALB log buckets send server access logs to the sink (S3.9).
    expect(object.inputs).toMatchObject({
      serverSideEncryption: "aws:kms",
      kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/sample-api-releases-0000",
    });
    expect(
      rec
        .ofType("aws:s3/bucketLogging:BucketLogging")
        .map((l) => [l.name, l.inputs.targetBucket])
        .sort(),
    ).toEqual(
      e.s3AccessLogs
        ? [
            ["sample-api-bucket", "sample-api-access-logs-a1b2c3"],
            ["sample-api-logs", "sample-api-access-logs-a1b2c3"],
          ]
        : [],
    );
    expect(
      named(rec, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "sample-api-public-access").inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      JSON.parse(named(rec, "aws:s3/bucketPolicy:BucketPolicy", "sample-api-tls-only").inputs.policy).Statement[0],
    ).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });

    // Secrets: SecureString under the contract's names, encrypted with the service's key.
    for (const p of rec.ofType("aws:ssm/parameter:Parameter")) {
      expect(p.inputs.type).toBe("SecureString");
      expect(p.inputs.keyId).toBe("arn:aws:kms:us-east-1:123456789012:key/sample-api-key-0000");
      expect(p.inputs.name).toMatch(new RegExp(`^/sample-api/${stack}/(datadog-api-key|papertrail-destination)$`));
    }

    // Protection differs per stack: stateful components (and so their children) are protected in prod.
    for (const c of [
      "node-service-aws:index:Bundle::sample-api",
      "node-service-aws:index:Alb::sample-api",
      "node-service-aws:index:Secrets::sample-api",
    ])
      expect(Boolean(options.get(c)?.protect)).toBe(e.protect);

    // The service's name: prod has its domain (an alias of the ALB), dev the ALB's own name and a note saying so.
    const alb = {
      name: "sample-api-1234567890.us-east-1.elb.amazonaws.com",
      zoneId: "Z35SXDOTRQ7X7K",
      evaluateTargetHealth: true,
    };
    const records = rec.ofType("aws:route53/record:Record");
    if (stack === "prod") {
      expect(records.map((r) => [r.name, r.inputs.type, r.inputs.name, r.inputs.zoneId])).toEqual([
        ["sample-api-a", "A", "api.example.com", "Z00000000000000000000"],
      ]);
      expect(records[0]!.inputs.aliases).toEqual([alb]);
      expect(outputs.serviceUrlNote).toBeUndefined();
    } else {
      expect(records).toEqual([]);
      expect(outputs.serviceUrlNote).toMatch(
        /^no domainName: serviceUrl is the load balancer's AWS name, over plain HTTP;/,
      );
    }

    // Outputs.
    expect(outputs).toMatchObject({
      serviceUrl: e.https ? "https://api.example.com" : "http://sample-api-1234567890.us-east-1.elb.amazonaws.com",
      loadBalancerDnsName: "sample-api-1234567890.us-east-1.elb.amazonaws.com",
      autoScalingGroupName: "sample-api-asg-x1",
      dashboardUrl: expect.stringMatching(/^https:\/\/app\.datadoghq\.com\/dashboard\//),
      logSearchUrl: "https://my.papertrailapp.com/events?q=program%3Asample-api",
    });
  });

  it("never puts a secret value in clear text into a resource input or output", async () => {
    const { rec, outputs } = await run(stack, bundleFile("x"));
    for (const key of secretKeys) {
      const marker = secretMarker(key);
      // The value did reach its parameter, as a secret: so the search below can find it when it leaks.
      const param = rec.resources.find(
        (r) => r.type === "aws:ssm/parameter:Parameter" && JSON.stringify(r.inputs.value).includes(marker),
      );
      expect(param, `${key} reaches its SSM parameter`).toBeDefined();
      expect(isSecretOnWire(param!.wire, "value")).toBe(true);
      const leaks = rec.resources.flatMap((r) => clearTextPaths(r.wire, marker).map((p) => `${r.type} ${r.name} ${p}`));
      expect(leaks).toEqual([]);
      for (const [urn, wire] of rec.outputWires) expect(clearTextPaths(wire, marker), urn).toEqual([]);
      expect(JSON.stringify(outputs)).not.toContain(marker);
      // User-data is base64 in the launch template, where a plain search cannot see a leak: decode it.
      const userData = gunzipSync(
        Buffer.from(rec.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.userData, "base64"),
      ).toString("utf8");
      expect(userData).toMatch(/^#cloud-config/);
      expect(userData).not.toContain(marker);
    }
    // The check can fail: a marker put in clear text into an input is found.
    expect(clearTextPaths({ a: [{ b: `x${secretMarker("datadogApiKey")}` }] }, secretMarker("datadogApiKey"))).toEqual([
      "$.a[0].b",
    ]);
  });

  it("a new bundle changes the bundle object and the launch template, nothing else; the same bundle changes nothing", async () => {
    const file = bundleFile("version one\n");
    const snapshot = async () => {
      const { rec } = await run(stack, file);
      return new Map(rec.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    };
    const first = await snapshot();
    const same = await snapshot();
    fs.writeFileSync(file, "version two\n");
    const second = await snapshot();
    const diff = (a: Map<string, string>, b: Map<string, string>) =>
      [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
    expect(diff(first, same)).toEqual([]);
    expect(diff(first, second)).toEqual([
      "aws:ec2/launchTemplate:LaunchTemplate::sample-api-lt",
      "aws:s3/bucketObjectv2:BucketObjectv2::sample-api-release",
    ]);
    // The ASG follows the launch template's latestVersion (a provider output), so each new version rolls the fleet.
  });
});

describe("stack dev, HAProxy flavor (loadBalancer: haproxy), under mocks", () => {
  it("composes the HAProxy tier instead of ALB + ASG, with the same bundle, secrets and host user-data", async () => {
    const { rec, outputs } = await run("dev", bundleFile("haproxy flavor\n"), { loadBalancer: "haproxy" });
    const counts = countByType(rec);
    expect(counts).toMatchObject({
      "node-service-aws:index:HaproxyTier": 1,
      "node-service-aws:index:Bundle": 1,
      "node-service-aws:index:Secrets": 1,
      "node-service-aws:index:Observability": 1,
    });
    for (const absent of ["node-service-aws:index:Alb", "node-service-aws:index:Fleet"])
      expect(counts[absent]).toBeUndefined();
    // One Auto Scaling group and launch template: the HAProxy nodes'.
    expect(counts).toMatchObject({ "aws:autoscaling/group:Group": 1, "aws:ec2/launchTemplate:LaunchTemplate": 1 });
    const profile = named(rec, "aws:iam/instanceProfile:InstanceProfile", "sample-api-hosts-profile");
    const hosts = rec
      .ofType("aws:ec2/instance:Instance")
      .filter((i) => i.inputs.iamInstanceProfile === `${profile.name}-x1`);
    expect(hosts.length).toBe(1); // fleetInstanceCount = minSize of dev
    const userData = gunzipSync(Buffer.from(hosts[0]!.inputs.userDataBase64 as string, "base64")).toString("utf8");
    expect(userData.startsWith("#cloud-config")).toBe(true);
    expect(userData).toContain("/sample-api/dev/datadog-api-key");
    expect(
      rec.ofType("aws:ec2/instance:Instance").filter((i) => String(i.inputs.userData).includes("haproxy.cfg")),
    ).toEqual([]);
    expect(rec.one("aws:autoscaling/group:Group").inputs).toMatchObject({ minSize: 1, maxSize: 1 });
    const nodeUserData = gunzipSync(
      Buffer.from(rec.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.userData, "base64"),
    ).toString("utf8");
    expect(nodeUserData).toContain("fleet.sample-api.dev.internal");
    // The node's own logging, Datadog check and secrets (host/haproxy/nodeUserData.ts).
    for (const part of [
      "/etc/rsyslog.d/10-haproxy.conf",
      "/etc/datadog-agent/conf.d/haproxy.d/conf.yaml",
      "/sample-api/dev/datadog-api-key",
    ])
      expect(nodeUserData).toContain(part);
    // A new secret value reaches the service hosts through the rollout (secrets script, then a restart) and the
    // nodes through their launch template's instance tag (components/haproxy-tier HaproxyTierArgs.secretsRevision).
    const revision = "datadog-api-key:1/papertrail-destination:1";
    expect(rec.one("aws:ssm/association:Association").inputs.parameters.secretsRevision).toBe(revision);
    const commands = JSON.parse(rec.one("aws:ssm/document:Document").inputs.content).mainSteps[0].inputs.runCommand;
    expect(commands.join("\n")).toContain("ssm_datadog_api_key='/sample-api/dev/datadog-api-key'");
    expect(rec.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.tagSpecifications[0].tags).toMatchObject({
      "node-service-aws:secrets-revision": revision,
    });
    for (const key of secretKeys) {
      const leaks = rec.resources.flatMap((r) =>
        clearTextPaths(r.wire, secretMarker(key)).map((p) => `${r.type} ${r.name} ${p}`),
      );
      expect(leaks).toEqual([]);
    }
    expect(outputs.serviceUrl).toMatch(/^http:\/\/.+elb\.amazonaws\.com$/);
    expect(outputs.serviceUrlNote).toMatch(/^no domainName: serviceUrl is the load balancer's AWS name/);
    expect(outputs.autoScalingGroupName).toBeUndefined();
  });
});

describe("the switches that default to env, and the secrets' operators", () => {
  const made = (rec: MockRecorder) => ({
    interfaceEndpoints: rec
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Interface").length,
    flowLogs: rec.ofType("aws:ec2/flowLog:FlowLog").length,
    accessLogs: rec.ofType("aws:s3/bucketLogging:BucketLogging").length,
  });

  it("prod has interface endpoints, flow logs and S3 access logs by default, dev none; a set key wins either way", async () => {
    const prod = made((await run("prod", bundleFile("switches prod\n"))).rec);
    expect(prod.interfaceEndpoints).toBeGreaterThan(0);
    expect(prod.flowLogs).toBeGreaterThan(0);
    expect(prod.accessLogs).toBeGreaterThan(0);
    expect(made((await run("dev", bundleFile("switches dev\n"))).rec)).toEqual({
      interfaceEndpoints: 0,
      flowLogs: 0,
      accessLogs: 0,
    });
    const on = { vpcInterfaceEndpoints: "true", vpcFlowLogs: "true", s3AccessLogs: "true" };
    const devOn = made((await run("dev", bundleFile("switches dev on\n"), on)).rec);
    expect(devOn).toEqual(prod);
    const off = { vpcInterfaceEndpoints: "false", vpcFlowLogs: "false", s3AccessLogs: "false" };
    expect(made((await run("prod", bundleFile("switches prod off\n"), off)).rec)).toEqual({
      interfaceEndpoints: 0,
      flowLogs: 0,
      accessLogs: 0,
    });
  });

  it("secretsOperatorArns are the only principals the secrets' key lets put a value", async () => {
    const ops = ["arn:aws:iam::123456789012:role/ops", "arn:aws:iam::123456789012:role/*/deployer"];
    const { rec } = await run("dev", bundleFile("operators\n"), { secretsOperatorArns: ops });
    const statements = JSON.parse(named(rec, "aws:kms/key:Key", "sample-api-key").inputs.policy).Statement;
    const sid = (s: string) => statements.find((x: any) => x.Sid === s).Condition.ArnNotLike["aws:PrincipalArn"];
    expect(sid("DenyEncryptByOtherPrincipals")).toEqual(ops);
    expect(sid("DenyDecryptByOtherPrincipals")).toEqual(expect.arrayContaining(ops));
  });
});

describe("the service URL without a record of the stack's own", () => {
  it("dev with a certificate but no domain says HTTPS on the load balancer's AWS name matches no certificate", async () => {
    const certificateArn = "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000";
    const { outputs } = await run("dev", bundleFile("dev https\n"), { certificateArn });
    expect(outputs.serviceUrl).toBe("https://sample-api-1234567890.us-east-1.elb.amazonaws.com");
    expect(outputs.serviceUrlNote).toMatch(
      /^no domainName: HTTPS on the load balancer's AWS name \(\*\.elb\.amazonaws\.com\) matches no certificate of yours/,
    );
  });

  it("a domain without a hosted zone: https://<domain>, and the note says which record to make", async () => {
    const { rec, outputs } = await run("prod", bundleFile("prod external dns\n"), { hostedZoneId: "" });
    expect(rec.ofType("aws:route53/record:Record")).toEqual([]);
    expect(outputs.serviceUrl).toBe("https://api.example.com");
    expect(outputs.serviceUrlNote).toBe(
      "no hostedZoneId: point api.example.com at sample-api-1234567890.us-east-1.elb.amazonaws.com in your DNS (a CNAME record, or your provider's alias)",
    );
  });
});

describe("stack prod, HAProxy flavor, under mocks", () => {
  it("makes the prod decisions the tier no longer makes itself: two HAProxy nodes in two AZs, a protected NLB, TLS", async () => {
    const { rec, outputs } = await run("prod", bundleFile("haproxy prod\n"), { loadBalancer: "haproxy" });
    const nodes = rec.one("aws:autoscaling/group:Group").inputs;
    expect(nodes).toMatchObject({ minSize: 2, maxSize: 2, healthCheckType: "ELB" });
    expect([...nodes.vpcZoneIdentifiers].sort()).toEqual([
      "sample-api-private-0-id",
      "sample-api-private-1-id",
      "sample-api-private-2-id",
    ]);
    expect(rec.one("aws:lb/loadBalancer:LoadBalancer").inputs).toMatchObject({
      loadBalancerType: "network",
      enableDeletionProtection: true,
    });
    expect(rec.one("aws:lb/listener:Listener").inputs).toMatchObject({
      port: 443,
      protocol: "TLS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    });
    // The domain is an alias of the NLB (its own DNS name and zone), beside the tier's private discovery record.
    const record = named(rec, "aws:route53/record:Record", "sample-api-a");
    expect(record.inputs).toMatchObject({ name: "api.example.com", type: "A", zoneId: "Z00000000000000000000" });
    expect(record.inputs.aliases).toEqual([
      {
        name: "sample-api-nlb-1234567890.us-east-1.elb.amazonaws.com",
        zoneId: "Z35SXDOTRQ7X7K",
        evaluateTargetHealth: true,
      },
    ]);
    expect(outputs.serviceUrl).toBe("https://api.example.com");
    // Alarms on the NLB's view of the nodes, to the alarm topic (a node with no usable service host fails the check).
    const alarms = rec.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.name).sort()).toEqual([
      "sample-api-nlb-healthy-nodes",
      "sample-api-nlb-unhealthy-nodes",
    ]);
    for (const a of alarms) {
      expect(a.inputs.dimensions).toEqual({
        LoadBalancer: "app/sample-api-nlb/50dc6c495c0c9188",
        TargetGroup: "targetgroup/sample-api-haproxy/73e2d6bc24d8a067",
      });
      expect(a.inputs.alarmActions).toEqual(["arn:aws:sns:us-east-1:123456789012:sample-api-alarms"]);
      expect(a.inputs.evaluationPeriods * 60).toBeGreaterThan(600);
    }
    expect(alarms.find((a) => a.name === "sample-api-nlb-healthy-nodes")!.inputs.threshold).toBe(2);
    // The Datadog agent's collect_ec2_tags: tags in instance metadata, and ec2:DescribeTags as its fallback, on every host.
    expect(rec.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.metadataOptions.instanceMetadataTags).toBe(
      "enabled",
    );
    for (const host of rec.ofType("aws:ec2/instance:Instance"))
      expect(host.inputs.metadataOptions.instanceMetadataTags, host.name).toBe("enabled");
    for (const role of ["sample-api-node-params", "sample-api-hosts-service"])
      expect(
        JSON.parse(named(rec, "aws:iam/rolePolicy:RolePolicy", role).inputs.policy).Statement,
        role,
      ).toContainEqual(expect.objectContaining({ Action: "ec2:DescribeTags", Resource: "*" }));
    // The node boot reads its SecureStrings: the node role decrypts them with the secrets key, through SSM only.
    const nodePolicy = JSON.parse(
      named(rec, "aws:iam/rolePolicy:RolePolicy", "sample-api-node-params").inputs.policy,
    ).Statement;
    expect(nodePolicy).toContainEqual(
      expect.objectContaining({
        Action: "kms:Decrypt",
        Resource: "arn:aws:kms:us-east-1:123456789012:key/sample-api-key-0000",
        Condition: { StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } },
      }),
    );
  });

  it("logs the NLB's TLS connections into a protected bucket, itself logged to the S3 access-log bucket; dev does not (nlbAccessLogs)", async () => {
    const { rec, options } = await run("prod", bundleFile("haproxy prod logs\n"), { loadBalancer: "haproxy" });
    expect(rec.one("aws:lb/loadBalancer:LoadBalancer").inputs.accessLogs).toMatchObject({ enabled: true, prefix: "" });
    expect(named(rec, "aws:s3/bucketLogging:BucketLogging", "sample-api-nlb-logs").inputs.targetPrefix).toBe(
      "s3-access/sample-api-nlb-logs/",
    );
    expect(options.get("aws:s3/bucket:Bucket::sample-api-nlb-logs")?.protect).toBe(true);
    expect(named(rec, "aws:s3/bucket:Bucket", "sample-api-nlb-logs").inputs.forceDestroy).toBe(false);
    // The alarm topic's key is protected in prod, the topic not.
    expect(options.get("aws:kms/key:Key::sample-api-alarms")?.protect).toBe(true);
    expect(options.get("aws:sns/topic:Topic::sample-api-alarms")?.protect).toBeUndefined();
    const dev = await run("dev", bundleFile("haproxy dev logs\n"), { loadBalancer: "haproxy" });
    expect(dev.rec.ofType("aws:s3/bucket:Bucket").map((b) => b.name)).not.toContain("sample-api-nlb-logs");
    expect(dev.rec.one("aws:lb/loadBalancer:LoadBalancer").inputs.accessLogs).toBeUndefined();
    expect(dev.options.get("aws:kms/key:Key::sample-api-alarms")?.protect).toBeUndefined();
  });
});
