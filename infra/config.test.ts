import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { setupMocks } from "../test/support/pulumi-mocks";
import {
  ConfigError,
  StackScope,
  loadStackFile,
  projectKeys,
  projectName,
  readPulumiConfig,
  secretKeys,
  stackConfigSchema,
  validateStackConfig,
} from "./config";
import { projectRoot as root, stackFileConfig } from "../test/support/stack-config";
import { defaultBootBudget, measuredBootSec } from "../contract/boot";

const stackDoc = (stack: string) =>
  parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
const prod = () => projectKeys(stackDoc("prod").config);
const dev = () => projectKeys(stackDoc("dev").config);

/** The scope a checked-in stack file runs in: the stack named after its env, in us-east-1. */
const scopeOf = (raw: Record<string, unknown>, stack = String(raw.env)): StackScope => ({
  stack,
  providers: { "aws:region": "us-east-1" },
});

function errorsOf(raw: Record<string, unknown>, scope = scopeOf(raw)): string[] {
  try {
    validateStackConfig(raw, scope);
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  return [];
}

describe("stack config schema", () => {
  it("accepts both checked-in stack files and keeps no secret value", () => {
    for (const stack of ["dev", "prod"]) {
      const c = loadStackFile(stack, root);
      expect(c.env).toBe(stack);
      for (const k of secretKeys) expect(c).not.toHaveProperty(k);
    }
  });

  it("dev and prod have the same shape and differ in size, retention and protection", () => {
    expect(Object.keys(stackDoc("dev").config).sort()).toEqual(Object.keys(stackDoc("prod").config).sort());
    const d = loadStackFile("dev", root);
    const p = loadStackFile("prod", root);
    expect(p.minSize).toBeGreaterThan(d.minSize);
    expect(p.accessLogRetentionDays).toBeGreaterThan(d.accessLogRetentionDays);
    expect([d.protect, d.deletionProtection, p.protect, p.deletionProtection]).toEqual([false, false, true, true]);
  });

  it("Pulumi.yaml declares every key with the schema's type, default and description, and nothing else", () => {
    const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    expect(project.name).toBe(projectName);
    expect(project.main).toBe("infra/index.ts");
    expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
    const declared = project.config as Record<
      string,
      { type: string; default?: unknown; description: string; secret?: boolean; items?: { type: string } }
    >;
    const shape = stackConfigSchema.shape as Record<string, any>;
    expect(Object.keys(declared).sort()).toEqual(Object.keys(shape).sort());
    for (const [key, schema] of Object.entries(shape)) {
      const d = declared[key]!;
      expect(d.description, key).toBe(schema.description);
      if ((secretKeys as readonly string[]).includes(key)) {
        // Not `secret: true` without a default: the CLI would require it of the docker target too. The program
        // refuses a missing or clear-text value on target aws (the tests below).
        expect(d, key).toMatchObject({ type: "string", default: "" });
        expect(d.secret, key).toBeUndefined();
        continue;
      }
      const json = schema.toJSONSchema({ io: "input" });
      expect(d.type, key).toBe(json.type === "number" ? "integer" : json.type);
      expect(d.default, key).toEqual(json.default);
    }
  });

  it("reads the same config from the Pulumi runtime (strings, decrypted secrets) as from the stack file", async () => {
    for (const stack of ["dev", "prod"]) {
      const { config, secretKeys: keys } = stackFileConfig(stack);
      await setupMocks({ config, secretKeys: keys, stack });
      expect(readPulumiConfig()).toEqual(loadStackFile(stack, root));
    }
  });

  it("refuses a secret set in clear text in the running stack", async () => {
    const { config } = stackFileConfig("dev");
    await setupMocks({ config, secretKeys: [`${projectName}:papertrailDestination`], stack: "dev" });
    expect(() => readPulumiConfig()).toThrow(
      /^datadogApiKey: must be a secret, not clear text: run pulumi config set --secret datadogApiKey/,
    );
  });

  it("applies the CLI's coercions on both paths: `pulumi config set port 3001` writes a string, both accept it", async () => {
    // What `pulumi config set` writes at the top level is always a string (Pulumi CLI docs, config set);
    // the CLI's own typed-config check accepts it for an integer or boolean key (workspace/project.go
    // ValidateConfigValue: strings that parse as integers, "true"/"false"). The stack file and the
    // runtime must read it the same way.
    const edits = { port: "3001", warmPool: "true", natGatewayPerAz: "false" };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
    try {
      const text = fs
        .readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")
        .replace("node-service-aws:port: 3000", 'node-service-aws:port: "3001"')
        .replace("node-service-aws:warmPool: false", 'node-service-aws:warmPool: "true"')
        .replace("node-service-aws:natGatewayPerAz: false", 'node-service-aws:natGatewayPerAz: "false"');
      fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), text);
      const fromFile = loadStackFile("dev", dir);
      expect(fromFile).toMatchObject({ port: 3001, warmPool: true, natGatewayPerAz: false });
      const { config, secretKeys: keys } = stackFileConfig("dev", edits);
      await setupMocks({ config, secretKeys: keys, stack: "dev" });
      expect(readPulumiConfig()).toEqual(fromFile);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each row: a change to a valid stack file, the one message expected (it names the key and the fix).
  const table: [string, () => Record<string, unknown>, RegExp][] = [
    ["unknown key", () => ({ ...dev(), minsize: 2 }), /^minsize: unknown key: remove it or fix its spelling/],
    ["wrong type", () => ({ ...dev(), port: "3000x" }), /^port: must be an integer: pulumi config set port <integer>$/],
    [
      "not a boolean",
      () => ({ ...dev(), warmPool: "yes" }),
      /^warmPool: must be true or false: pulumi config set warmPool true$/,
    ],
    [
      "a list set as one string (the CLI refuses it too)",
      () => ({ ...dev(), allowedCidrs: '["10.0.0.0/8"]' }),
      /^allowedCidrs: must be a list: set its items with pulumi config set --path 'allowedCidrs\[0\]' <value>$/,
    ],
    [
      "wrong type in a list",
      () => ({ ...dev(), allowedCidrs: ["10.0.0.0/8", "everyone"] }),
      /^allowedCidrs\.1: must be an IPv4 CIDR/,
    ],
    [
      "an octet above 255 in the VPC CIDR",
      () => ({ ...dev(), vpcCidr: "999.10.0.0/16" }),
      /^vpcCidr: must be an IPv4 CIDR/,
    ],
    [
      "an octet above 255 in a client CIDR",
      () => ({ ...dev(), allowedCidrs: ["300.1.2.3/8"] }),
      /^allowedCidrs\.0: must be an IPv4 CIDR/,
    ],
    [
      "host bits set in the VPC CIDR",
      () => ({ ...dev(), vpcCidr: "10.10.0.1/16" }),
      /^vpcCidr: 10\.10\.0\.1\/16 is not a network address; did you mean 10\.10\.0\.0\/16\?$/,
    ],
    [
      "host bits set in a client CIDR",
      () => ({ ...dev(), allowedCidrs: ["203.0.113.7/24"] }),
      /^allowedCidrs\.0: 203\.0\.113\.7\/24 is not a network address; did you mean 203\.0\.113\.0\/24\?$/,
    ],
    [
      "a VPC CIDR larger than /16",
      () => ({ ...dev(), vpcCidr: "10.0.0.0/8" }),
      /^vpcCidr: must be an IPv4 CIDR from \/16 to \/20/,
    ],
    [
      "missing required key",
      () => {
        const c = dev();
        delete c.env;
        return c;
      },
      /^env: missing: set it, e.g. pulumi config set env dev$/,
    ],
    [
      "missing secret",
      () => {
        const c = dev();
        delete c.datadogApiKey;
        return c;
      },
      /^datadogApiKey: missing: run pulumi config set --secret datadogApiKey/,
    ],
    [
      "secret in clear text",
      () => ({ ...dev(), papertrailDestination: "logs.example.com:1234" }),
      /^papertrailDestination: must be a secret, not clear text/,
    ],
    ["prod with one instance", () => ({ ...prod(), minSize: 1 }), /^minSize: prod needs at least 2 instances/],
    ["minSize above maxSize", () => ({ ...dev(), minSize: 3, maxSize: 2 }), /^minSize: 3 is above maxSize \(2\)/],
    [
      "deregistration delay not above drain delay",
      () => ({ ...dev(), deregistrationDelaySec: 10 }),
      /^deregistrationDelaySec: 10 must be above drainDelayMs \(10 s\) and below the systemd stop timeout \(40 s/,
    ],
    [
      "deregistration delay not below systemd stop timeout",
      () => ({ ...dev(), deregistrationDelaySec: 40 }),
      /^deregistrationDelaySec: 40 must be above drainDelayMs/,
    ],
    [
      "keep-alive not above the LB idle timeout",
      () => ({ ...dev(), idleTimeoutSec: 65 }),
      /^keepAliveTimeoutMs: 65000 must exceed the load balancer idle timeout \(65 s/,
    ],
    [
      "headers timeout not above keep-alive",
      () => ({ ...dev(), headersTimeoutMs: 65000 }),
      /^headersTimeoutMs: 65000 must exceed keepAliveTimeoutMs/,
    ],
    [
      "shutdown deadline inside the drain delay",
      () => ({ ...dev(), drainDelayMs: 30000, shutdownTimeoutMs: 30000, deregistrationDelaySec: 35 }),
      /^shutdownTimeoutMs: 30000 must exceed drainDelayMs/,
    ],
    [
      "existing VPC with a CIDR to create",
      () => ({
        ...dev(),
        vpcId: "vpc-0123456789abcdef0",
        publicSubnetIds: ["subnet-01234567", "subnet-89abcdef"],
        privateSubnetIds: ["subnet-11234567", "subnet-19abcdef"],
      }),
      /^vpcId: is mutually exclusive with vpcCidr: give vpcId with its subnets to use a VPC, or vpcCidr to create one$/,
    ],
    [
      "existing VPC without subnets",
      () => ({ ...dev(), vpcCidr: "", vpcId: "vpc-0123456789abcdef0" }),
      /^vpcId: needs publicSubnetIds and privateSubnetIds/,
    ],
    [
      "subnets without a VPC",
      () => ({
        ...dev(),
        privateSubnetIds: ["subnet-01234567", "subnet-89abcdef"],
        publicSubnetIds: ["subnet-11234567", "subnet-19abcdef"],
      }),
      /^publicSubnetIds: needs vpcId/,
    ],
    [
      "prod without a pinned image id",
      () => ({ ...prod(), amiId: "" }),
      /^amiId: prod pins its image by id, .*: find the id of debian-12-amd64-20251006-2257 with aws ec2 describe-images --region us-east-1 --owners 136693071363 --include-deprecated --filters Name=name,Values=debian-12-amd64-20251006-2257 .*then pulumi config set amiId <id>$/,
    ],
    ["prod without HTTPS", () => ({ ...prod(), certificateArn: "" }), /^certificateArn: prod serves HTTPS only/],
    [
      "prod without a domain",
      () => ({ ...prod(), domainName: "", hostedZoneId: "" }),
      /^domainName: prod serves HTTPS, and no certificate can cover the load balancer's AWS name \(\*\.elb\.amazonaws\.com\): set the name the certificate covers: pulumi config set domainName <name>$/,
    ],
    [
      "a hosted zone without a domain",
      () => ({ ...dev(), hostedZoneId: "Z0123456789ABCDEFGHIJ" }),
      /^hostedZoneId: needs domainName, the record's name: pulumi config set domainName <name>$/,
    ],
    [
      "a domain Route 53 or ACM would refuse",
      () => ({ ...dev(), domainName: "api_v2.example.com" }),
      /^domainName: "api_v2\.example\.com" must be a lowercase host name/,
    ],
    [
      "a hosted zone id with its API path",
      () => ({ ...dev(), domainName: "api.example.com", hostedZoneId: "/hostedzone/Z0123456789" }),
      /^hostedZoneId: .*drop the \/hostedzone\/ prefix$/,
    ],
    [
      "prod without deletion protection",
      () => ({ ...prod(), deletionProtection: false }),
      /^deletionProtection: prod load balancer must be protected/,
    ],
    [
      "NLB access logs without a TLS listener",
      () => ({ ...dev(), loadBalancer: "haproxy", nlbAccessLogs: "true" }),
      /^nlbAccessLogs: an NLB logs TLS connections only: set certificateArn too/,
    ],
    [
      "checkpoints not ending at 100",
      () => ({ ...dev(), checkpointPercentages: [50, 90] }),
      /^checkpointPercentages: \[50, 90\] must rise strictly and end at 100/,
    ],
    [
      "max healthy not above 100",
      () => ({ ...dev(), maxHealthyPercentage: 100 }),
      /^maxHealthyPercentage: must be >= 101/,
    ],
    [
      "slow start between 1 and 29",
      () => ({ ...dev(), slowStartSec: 10 }),
      /^slowStartSec: 10 must be 0 \(off\) or 30-900/,
    ],
    [
      "bad service name",
      () => ({ ...dev(), serviceName: "Sample API" }),
      /^serviceName: "Sample API" must be 2-32 lowercase letters/,
    ],
    ["bad AMI id", () => ({ ...dev(), amiId: "debian" }), /^amiId: must be an AMI id/],
    [
      "warm pool larger than the group",
      () => ({ ...dev(), warmPool: true, warmPoolMinSize: 5 }),
      /^warmPoolMinSize: 5 is above maxSize \(2\)/,
    ],
    [
      "grace period below the boot budget",
      () => ({ ...dev(), healthCheckGracePeriodSec: defaultBootBudget.healthCheckGracePeriodSec - 1 }),
      new RegExp(
        `^healthCheckGracePeriodSec: ${defaultBootBudget.healthCheckGracePeriodSec - 1} s is below the minimum ` +
          `${defaultBootBudget.healthCheckGracePeriodSec} s: a host took at least ${measuredBootSec} s .*VM boot test`,
      ),
    ],
    [
      "launch hook timeout below the boot budget",
      () => ({ ...dev(), lifecycleHookTimeoutSec: 300 }),
      new RegExp(
        `^lifecycleHookTimeoutSec: 300 s is below the minimum ${defaultBootBudget.lifecycleHookTimeoutSec} s: ` +
          `a host took at least ${measuredBootSec} s`,
      ),
    ],
    [
      "a switch that is not a string",
      () => ({ ...dev(), vpcFlowLogs: "yes" }),
      /^vpcFlowLogs: must be "true" or "false"/,
    ],
    [
      "interface endpoints asked of an existing VPC",
      () => ({
        ...dev(),
        vpcId: "vpc-0123456789abcdef0",
        vpcCidr: "",
        publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        privateSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
        vpcInterfaceEndpoints: "true",
      }),
      /^vpcInterfaceEndpoints: applies only to a created VPC/,
    ],
    [
      "an operator that is not an IAM principal",
      () => ({ ...dev(), secretsOperatorArns: ["arn:aws:s3:::bucket"] }),
      /^secretsOperatorArns\.0: must be IAM user or role ARNs/,
    ],
  ];

  it.each(table)("refuses %s with one message naming the key", (_label, make, message) => {
    const errors = errorsOf(make());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it("reports the shared validators' problems under the config keys, in their messages too", () => {
    // name (contract/service.ts) is the key serviceName, cidrBlock (components/network) is vpcCidr.
    expect(errorsOf({ ...dev(), serviceName: "Sample API" })[0]).toMatch(/^serviceName: "Sample API" /);
    const vpc = {
      vpcId: "vpc-0123456789abcdef0",
      vpcCidr: "10.1.0.0/16",
      publicSubnetIds: ["subnet-01234567", "subnet-89abcdef"],
      privateSubnetIds: ["subnet-11234567", "subnet-19abcdef"],
    };
    const [error] = errorsOf({ ...dev(), ...vpc });
    expect(error).toMatch(/^vpcId: .*vpcCidr/);
    expect(error).not.toMatch(/cidrBlock/);
  });

  it("refuses an idle timeout out of range once, with the schema's message (the ALB rule's problem is dropped by field)", () => {
    expect(errorsOf({ ...dev(), idleTimeoutSec: 0 })).toEqual(["idleTimeoutSec: must be >= 1"]);
  });

  it("refuses an env that is not the stack's name, on both paths: two stacks with one env share names in an account", async () => {
    // env names the stack's resources in the account: KMS alias alias/<service>-<env>-ssm, SSM parameters
    // /<service>/<env>/..., the HAProxy fleet's Fleet tag <service>-<env> that the rollout association targets.
    const message =
      /^env: "dev" but this stack is dev2: env names this stack's resources in the account \(KMS alias alias\/sample-api-dev-ssm, SSM parameters \/sample-api\/dev\/\.\.\., .*set env to the stack's name: pulumi config set env dev2$/;
    expect(errorsOf(dev(), scopeOf(dev(), "dev2"))).toEqual([expect.stringMatching(message)]);
    const { config, secretKeys: keys } = stackFileConfig("dev");
    await setupMocks({ config, secretKeys: keys, stack: "dev2" });
    expect(() => readPulumiConfig()).toThrow(message);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
    try {
      fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev2.yaml"));
      expect(() => loadStackFile("dev2", dir)).toThrow(message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("needs aws:region in the stack config on both paths (the host files and the size check are rendered for it)", async () => {
    expect(errorsOf(dev(), { stack: "dev", providers: {} })).toEqual([
      "aws:region: missing: pulumi config set aws:region <region>, e.g. us-east-1",
    ]);
    expect(errorsOf(dev(), { stack: "dev", providers: { "aws:region": "useast1" } })).toEqual([
      'aws:region: "useast1" is not an AWS region name like us-east-1',
    ]);
    const { config, secretKeys: keys } = stackFileConfig("dev");
    delete config["aws:region"];
    await setupMocks({ config, secretKeys: keys, stack: "dev" });
    expect(() => readPulumiConfig()).toThrow(/^aws:region: missing/);
  });

  it("a Datadog site other than US1 needs the Datadog provider's datadog:apiUrl for that site, on both paths", async () => {
    // The stack uses the default Datadog provider, which talks to https://api.datadoghq.com/ unless
    // datadog:apiUrl says otherwise: EU keys there are refused, or the monitors land on another site.
    const eu = { ...dev(), datadogSite: "datadoghq.eu" };
    const providers = (more: Record<string, unknown>) => ({
      stack: "dev",
      providers: { "aws:region": "us-east-1", ...more },
    });
    expect(errorsOf(eu, providers({}))).toEqual([
      "datadog:apiUrl: missing for datadogSite datadoghq.eu (the provider's default is US1, https://api.datadoghq.com/): pulumi config set datadog:apiUrl https://api.datadoghq.eu/",
    ]);
    expect(errorsOf(eu, providers({ "datadog:apiUrl": "https://api.datadoghq.com/" }))).toEqual([
      "datadog:apiUrl: https://api.datadoghq.com/ is not the API of datadogSite datadoghq.eu: pulumi config set datadog:apiUrl https://api.datadoghq.eu/",
    ]);
    expect(errorsOf(eu, providers({ "datadog:apiUrl": "https://api.datadoghq.eu/" }))).toEqual([]);
    expect(errorsOf(eu, providers({ "datadog:apiUrl": "https://api.datadoghq.eu" }))).toEqual([]);
    expect(errorsOf(eu, providers({ "datadog:apiUrl": "https://api.datadoghq.eu/api/" }))).toEqual([
      expect.stringMatching(/^datadog:apiUrl: https:\/\/api\.datadoghq\.eu\/api\/ is not the API/),
    ]);
    // US1 needs nothing, and a matching URL is fine too.
    expect(errorsOf(dev(), providers({ "datadog:apiUrl": "https://api.datadoghq.com/" }))).toEqual([]);
    const { config, secretKeys: keys } = stackFileConfig("dev", { datadogSite: "us5.datadoghq.com" });
    await setupMocks({ config, secretKeys: keys, stack: "dev" });
    expect(() => readPulumiConfig()).toThrow(
      /^datadog:apiUrl: missing for datadogSite us5\.datadoghq\.com .*https:\/\/api\.us5\.datadoghq\.com\/$/,
    );
  });

  it("derives the switches' defaults from env: on in prod, off elsewhere, and a set value wins", () => {
    const switches = ["vpcInterfaceEndpoints", "vpcFlowLogs", "s3AccessLogs", "nlbAccessLogs"] as const;
    const pick = (c: Record<string, unknown>) => switches.map((k) => c[k]);
    expect(pick(validateStackConfig(dev(), scopeOf(dev())))).toEqual([false, false, false, false]);
    expect(pick(validateStackConfig(prod(), scopeOf(prod())))).toEqual([true, true, true, true]);
    const set = { vpcInterfaceEndpoints: "false", vpcFlowLogs: "true", s3AccessLogs: "false", nlbAccessLogs: "false" };
    expect(pick(validateStackConfig({ ...prod(), ...set }, scopeOf(prod())))).toEqual([false, true, false, false]);
    expect(pick(validateStackConfig({ ...dev(), ...set }, scopeOf(dev())))).toEqual([false, true, false, false]);
  });

  it("gives the boot's timings the boot budget by default and takes longer ones", () => {
    const c = validateStackConfig(dev(), scopeOf(dev()));
    expect([c.healthCheckGracePeriodSec, c.lifecycleHookTimeoutSec]).toEqual([
      defaultBootBudget.healthCheckGracePeriodSec,
      defaultBootBudget.lifecycleHookTimeoutSec,
    ]);
    const longer = { ...dev(), healthCheckGracePeriodSec: 900, lifecycleHookTimeoutSec: 1200 };
    expect(validateStackConfig(longer, scopeOf(longer))).toMatchObject({
      healthCheckGracePeriodSec: 900,
      lifecycleHookTimeoutSec: 1200,
    });
  });

  it("has at least 15 invalid configs in its table", () => {
    expect(table.length).toBeGreaterThanOrEqual(15);
  });
});
