// The whole stack configuration as one schema. The same function validates the config the Pulumi CLI
// hands the program (strings, secrets decrypted) and a Pulumi.<stack>.yaml parsed from disk (native YAML
// types, secrets still `secure:` ciphertext), reading both through the CLI's own coercions (asDeclared),
// for the stack and region it is deployed to (StackScope), so `npm run render`, the tests and `pulumi up`
// refuse exactly the same mistakes, each with one message naming the key and the fix.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as Pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { checkAlbTimings } from "../components/alb/rules";
import { defaultBundlePath } from "../components/bundle/rules";
import { debian12NamePattern, debianOwnerId } from "../components/fleet/rules";

/** An exact Debian 12 image name, for messages. */
const debian12Example = "debian-12-amd64-20251006-2257";
import { checkNetworkArgs } from "../components/network/rules";
import { ssmParameterNames } from "../contract/layout";
import { Problem, formatProblem, namesFrom, renameFields } from "../contract/problem";
import { checkServiceSettings, serviceDefaults } from "../contract/service";
import { serviceSettingsOf } from "./host-input";
export { serviceSettingsOf };

export const projectName = "node-service-aws";
/** Keys whose values are Pulumi secrets: never in clear text in stack files, never in the validated config. */
export const secretKeys = ["datadogApiKey", "papertrailDestination"] as const;
export type SecretKey = (typeof secretKeys)[number];

/** The network address of a valid IPv4 CIDR: its address with the host bits cleared. */
export function networkAddress(cidr: string): string {
  const [address, bits] = cidr.split("/") as [string, string];
  const n = address.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const network = n - (n % size);
  return `${[24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".")}/${bits}`;
}
/**
 * An IPv4 CIDR the EC2 API takes: octets 0-255 and a prefix 0-32 (zod's cidrv4), and a network address,
 * as terraform-provider-aws checks it before calling AWS (aws_vpc cidr_block: validation.IsCIDRNetwork;
 * security group rules' cidr_ipv4: IPv4CIDRNetworkAddress, "did you mean ...?").
 */
const cidr = (hint: string, o: { prefix?: [number, number]; orEmpty?: boolean } = {}) => z.string().superRefine((v, ctx) => {
  if (v === "" && o.orEmpty) return;
  const bits = Number(v.split("/")[1]);
  if (!z.cidrv4().safeParse(v).success || (o.prefix && (bits < o.prefix[0] || bits > o.prefix[1]))) ctx.addIssue({ code: "custom", message: hint });
  else if (networkAddress(v) !== v) ctx.addIssue({ code: "custom", message: `${v} is not a network address; did you mean ${networkAddress(v)}?` });
});
const ipv4Cidr = cidr("must be an IPv4 CIDR like 10.0.0.0/16");
const int = (min: number, max: number) => z.number().int(`must be an integer`).min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);
/** "" means unset: Pulumi.yaml needs a default for every optional key, and "" is that default. */
const optionalString = (re: RegExp, hint: string) => z.string().refine((s) => s === "" || re.test(s), hint).default("");
const secret = (key: SecretKey) =>
  z.object({ secure: z.string().min(1) }, {
    error: (i) => i.input === undefined
      ? `missing: run pulumi config set --secret ${key} <value>`
      : `must be a secret, not clear text: run pulumi config set --secret ${key} <value>`,
  });

/** Every key, its type, default and description: Pulumi.yaml's `config:` block mirrors this (a test checks it). */
export const stackConfigSchema = z.strictObject({
  env: z.string({ error: (i) => (i.input === undefined ? "missing: set it, e.g. pulumi config set env dev" : "must be a string") }).regex(/^[a-z][a-z0-9-]{0,15}$/, "must be lowercase letters, digits or dashes, e.g. dev or prod").describe("Environment name: DD_ENV, tags, SSM parameter path"),
  serviceName: z.string().default(serviceDefaults.name).describe("ServiceSettings.name: unit, user, log folder, DD_SERVICE"),
  port: int(1, 65535).default(serviceDefaults.port).describe("Port the service listens on"),
  workers: int(0, 256).default(0).describe("Workers per host; 0 = one per core"),
  drainDelayMs: int(0, 600_000).default(serviceDefaults.drainDelayMs).describe("Readiness fails this long before the service stops accepting"),
  shutdownTimeoutMs: int(1, 3_600_000).default(serviceDefaults.shutdownTimeoutMs).describe("Deadline of a graceful shutdown, drain delay included"),
  keepAliveTimeoutMs: int(1, 3_600_000).default(serviceDefaults.keepAliveTimeoutMs).describe("Service keep-alive; must exceed idleTimeoutSec"),
  headersTimeoutMs: int(1, 3_600_000).default(serviceDefaults.headersTimeoutMs).describe("Service headers timeout; must exceed keepAliveTimeoutMs"),

  loadBalancer: z.enum(["alb", "haproxy"], "must be alb or haproxy").default("alb").describe("Flavor: alb (ALB + Auto Scaling group) or haproxy (NLB + HAProxy nodes + fixed fleet)"),
  vpcId: optionalString(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id like vpc-0abc12345678def90").describe("Existing VPC to use; empty = create one"),
  publicSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be subnet ids")).default([]).describe("Public subnets of vpcId (load balancer)"),
  privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be subnet ids")).default([]).describe("Private subnets of vpcId (instances)"),
  // AWS takes /16 to /28 for a VPC; the subnets carved from it (components/network) need /20 or larger.
  vpcCidr: cidr("must be an IPv4 CIDR from /16 to /20, like 10.0.0.0/16", { prefix: [16, 20], orEmpty: true }).default("").describe("CIDR of the VPC to create; empty = 10.0.0.0/16"),
  azCount: int(2, 6).default(2).describe("AZs of the created VPC"),
  natGatewayPerAz: z.boolean().default(false).describe("One NAT gateway per AZ instead of one shared"),

  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type like t3.small").default("t3.small").describe("EC2 instance type"),
  amiId: optionalString(/^ami-[0-9a-f]{8,17}$/, "must be an AMI id like ami-0123456789abcdef0").describe("Explicit image; empty = look up amiName"),
  amiName: z.string().min(1).default(debian12NamePattern).describe("Official Debian AMI name or pattern (owner 136693071363)"),
  rootVolumeGb: int(8, 1024).default(8).describe("gp3 root volume size"),
  minSize: int(1, 100).default(1).describe("Fewest instances"),
  maxSize: int(1, 100).default(2).describe("Most instances"),
  warmPool: z.boolean().default(false).describe("Keep stopped, pre-booted instances for fast scale-out"),
  warmPoolMinSize: int(0, 100).default(1).describe("Instances kept in the warm pool"),
  healthCheckGracePeriodSec: int(0, 7200).default(300).describe("Time a new instance has to boot before ELB health counts"),
  instanceWarmupSec: int(0, 3600).default(120).describe("Warm-up of a new instance for refresh and scaling"),
  checkpointPercentages: z.array(int(1, 100)).default([50, 100]).describe("Instance refresh pauses after these shares"),
  checkpointDelaySec: int(0, 172_800).default(300).describe("Pause at each checkpoint"),
  maxHealthyPercentage: int(101, 200).default(200).describe("Capacity ceiling during a refresh (new before old)"),
  requestsPerTarget: int(1, 1_000_000).default(1000).describe("Target tracking: requests per target per minute"),

  certificateArn: optionalString(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, "must be an ACM certificate ARN").describe("HTTPS certificate; empty = plain HTTP (dev only)"),
  allowedCidrs: z.array(ipv4Cidr).min(1, "needs at least one CIDR").default(["0.0.0.0/0"]).describe("Clients allowed to reach the load balancer"),
  idleTimeoutSec: int(1, 4000).default(60).describe("Load balancer idle timeout"),
  deregistrationDelaySec: int(0, 3600).default(30).describe("Above drainDelayMs, below the systemd stop timeout"),
  slowStartSec: int(0, 900).default(30).describe("Ramp-up of a new target (0 or 30-900)"),
  deletionProtection: z.boolean().default(false).describe("Load balancer deletion protection"),
  protect: z.boolean().default(false).describe("Pulumi protect on stateful resources; buckets not force-destroyed"),
  bundlePath: z.string().min(1).default(defaultBundlePath).describe("Built bundle uploaded as the release (npm run build writes it)"),
  accessLogRetentionDays: int(1, 3650).default(30).describe("Days ALB access logs are kept"),
  bundleRetentionDays: int(1, 3650).default(30).describe("Days old bundle versions are kept"),

  datadogSite: z.string().regex(/^[a-z0-9.-]+\.[a-z]+$/, "must be a host name like datadoghq.com").default("datadoghq.com").describe("Datadog site"),
  alertEmails: z.array(z.string().email("must be e-mail addresses")).default([]).describe("E-mail subscribers of the alarm topic"),
  datadogNotifyHandles: z.array(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "must be handles without the @, like slack-ops")).default([]).describe("Datadog monitor notification handles, without the @"),
  createDatadogIntegration: z.boolean().default(false).describe("Create the account-wide Datadog AWS integration (one stack per account)"),

  datadogApiKey: secret("datadogApiKey").describe("Secret: Datadog API key, stored as SSM SecureString"),
  papertrailDestination: secret("papertrailDestination").describe("Secret: Papertrail host:port, stored as SSM SecureString"),
});

type Parsed = z.output<typeof stackConfigSchema>;
/** The validated config: every key but the secrets, whose values the program reads with requireSecret. */
export type StackConfig = Omit<Parsed, SecretKey>;

export class ConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
    this.name = "ConfigError";
  }
}

/**
 * The config key of each field the shared validators name differently (the others are keys already):
 * a validator's problem is reported under its key, and a message mentioning the field says the key.
 */
const configKeyOf = namesFrom({ name: "serviceName", cidrBlock: "vpcCidr" });

/** Cross-key rules; each message starts with the key to change. */
function combinationErrors(c: Parsed, region = "<region>"): string[] {
  const shared = [
    ...checkServiceSettings(serviceSettingsOf(c), configKeyOf),
    // The schema already bounds idleTimeoutSec, with its own message.
    ...checkAlbTimings(c, configKeyOf).filter((p) => p.field !== "idleTimeoutSec"),
    ...checkNetworkArgs({
      vpcId: c.vpcId || undefined, cidrBlock: c.vpcCidr || undefined,
      publicSubnetIds: c.publicSubnetIds.length ? c.publicSubnetIds : undefined, privateSubnetIds: c.privateSubnetIds.length ? c.privateSubnetIds : undefined,
    }, configKeyOf),
  ];
  const errors = renameFields(shared, configKeyOf).map(formatProblem);
  if (c.vpcId && c.natGatewayPerAz) errors.push("natGatewayPerAz: applies only to a created VPC; drop it when vpcId is given");
  if (c.vpcId && (c.publicSubnetIds.length === 1 || c.privateSubnetIds.length === 1))
    errors.push("privateSubnetIds/publicSubnetIds: give at least 2 of each, in different AZs");
  const prod = c.env === "prod";
  if (c.minSize > c.maxSize) errors.push(`minSize: ${c.minSize} is above maxSize (${c.maxSize}): lower minSize or raise maxSize`);
  if (prod && c.minSize < 2) errors.push(`minSize: prod needs at least 2 instances (one AZ or instance may fail): set minSize >= 2`);
  // By id: a new Debian release cannot roll the fleet by itself, and the lookup finds the image by id even
  // once it is deprecated (components/fleet/image.ts passes includeDeprecated).
  if (prod && !c.amiId) {
    const name = c.amiName.includes("*") ? debian12Example : c.amiName;
    errors.push(`amiId: prod pins its image by id, so a new AMI is a deliberate rollout: find the id of ${name} with `
      + `aws ec2 describe-images --region ${region} --owners ${debianOwnerId} --include-deprecated --filters Name=name,Values=${name} `
      + `--query 'Images[0].ImageId' --output text, then pulumi config set amiId <id>`);
  }
  if (prod && !c.certificateArn) errors.push("certificateArn: prod serves HTTPS only: set an ACM certificate ARN");
  if (prod && !c.deletionProtection) errors.push("deletionProtection: prod load balancer must be protected: set deletionProtection: true");
  const cp = c.checkpointPercentages;
  if (cp.length === 0 || cp[cp.length - 1] !== 100 || cp.some((v, i) => i > 0 && v <= cp[i - 1]!))
    errors.push(`checkpointPercentages: [${cp.join(", ")}] must rise strictly and end at 100, e.g. [50, 100]`);
  if (c.warmPool && c.warmPoolMinSize > c.maxSize) errors.push(`warmPoolMinSize: ${c.warmPoolMinSize} is above maxSize (${c.maxSize})`);
  return errors;
}

/** What a value of the wrong type should be, said with the command that sets it right. */
const typeHints: Record<string, (key: string) => string> = {
  number: (key) => `must be an integer: pulumi config set ${key} <integer>`,
  boolean: (key) => `must be true or false: pulumi config set ${key} true`,
  array: (key) => `must be a list: set its items with pulumi config set --path '${key}[0]' <value>`,
};

function formatIssue(i: z.core.$ZodIssue): string[] {
  if (i.code === "unrecognized_keys")
    return i.keys.map((k) => `${k}: unknown key: remove it or fix its spelling (keys are listed in Pulumi.yaml)`);
  const key = i.path.map(String).join(".") || "(config)";
  const hint = i.code === "invalid_type" && i.input !== undefined ? typeHints[i.expected] : undefined;
  return [`${key}: ${hint ? hint(key) : i.message}`];
}

/** Each key's type as Pulumi.yaml declares it: the schema's JSON Schema type (a test compares the two). */
const declaredTypes: Record<string, string | undefined> = Object.fromEntries(Object.entries(stackConfigSchema.shape)
  .map(([key, schema]) => [key, (schema.toJSONSchema({ io: "input" }) as { type?: string }).type]));

/**
 * A value the way the Pulumi CLI's typed config takes it for its key's declared type (pulumi/pulumi
 * sdk/go/common/workspace/project.go, ValidateConfigValue): an integer key also takes a string that parses
 * as an integer ("Allow strings here if they parse as integers", strconv.Atoi), a boolean key the strings
 * "true" and "false". `pulumi config set port 3001` writes the string "3001" (top-level values are always
 * strings), so both the stack file and the running program read every value through this one function.
 */
export function asDeclared(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  const type = declaredTypes[key];
  if ((type === "integer" || type === "number") && /^[+-]?\d+$/.test(value)) return Number(value);
  if (type === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

/** Where a config is deployed: what the checks need beyond the project's own keys. */
export interface StackScope {
  /** The stack's name: `pulumi stack` (pulumi.getStack()), or `npm run render -- --stack <name>`. */
  stack: string;
  /** Keys of other namespaces, as set in the stack config: aws:region, datadog:apiUrl. */
  providers: Record<string, unknown>;
}

/** The stack's AWS region (aws:region), when it is set. */
export function regionOf(scope: StackScope): string | undefined {
  const region = scope.providers["aws:region"];
  return typeof region === "string" && region !== "" ? region : undefined;
}

/**
 * Names in the account that must differ between two stacks. They are built from serviceName and env
 * (contract/layout.ts ssmParameterNames, components/secrets' KMS alias, the HAProxy tier's Fleet tag that
 * its rollout association targets) and env is the stack's Datadog env tag too. Pulumi keeps stack names
 * unique within a project, so env = the stack's name keeps every one of those names unique without
 * renaming anything an existing dev or prod stack holds (a new name would replace its parameters and alias).
 */
function scopeProblems(c: Parsed, scope: StackScope): Problem[] {
  const problems: Problem[] = [];
  if (c.env !== scope.stack) {
    const ssm = ssmParameterNames(c.serviceName, c.env).datadogApiKey.replace(/[^/]+$/, "...");
    problems.push({
      field: "env",
      message: `"${c.env}" but this stack is ${scope.stack}: env names this stack's resources in the account (KMS alias alias/${c.serviceName}-${c.env}-ssm, `
        + `SSM parameters ${ssm}, the HAProxy fleet's Fleet tag ${c.serviceName}-${c.env}) and its Datadog env tag, so two stacks with one env `
        + `overwrite or deploy onto each other: set env to the stack's name: pulumi config set env ${scope.stack}`,
    });
  }
  if (!regionOf(scope)) problems.push({ field: "aws:region", message: "missing: pulumi config set aws:region <region>, e.g. us-east-1" });
  return problems;
}

/**
 * Validates a config object keyed without the project prefix, for the stack and region it is deployed
 * to; throws ConfigError listing every problem.
 */
export function validateStackConfig(given: Record<string, unknown>, scope: StackScope): StackConfig {
  const raw = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, asDeclared(k, v)]));
  const r = stackConfigSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new ConfigError(r.error.issues.flatMap(formatIssue));
  const errors = [...combinationErrors(r.data, regionOf(scope)), ...scopeProblems(r.data, scope).map(formatProblem)];
  if (errors.length) throw new ConfigError(errors);
  const { datadogApiKey: _d, papertrailDestination: _p, ...rest } = r.data;
  return rest;
}

/** Project keys of a stack file's `config:` map, with the project prefix removed; other namespaces (aws:...) skipped. */
export function projectKeys(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith(`${projectName}:`)) out[k.slice(projectName.length + 1)] = v;
    else if (!k.includes(":")) out[k] = v;
  }
  return out;
}

/** The keys of other namespaces (aws:region, datadog:apiUrl, ...) of a config map. */
export function providerKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => k.includes(":") && !k.startsWith(`${projectName}:`)));
}

/** Reads and validates Pulumi.<stack>.yaml next to Pulumi.yaml (no secret value needed), with the scope it was checked for. */
export function loadStack(stack: string, dir = process.cwd()): { config: StackConfig; scope: StackScope; region: string } {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError([`--stack ${stack}: cannot read ${file}: ${(e as Error).message.split("\n")[0]}`]);
  }
  const all = doc?.config ?? {};
  const scope = { stack, providers: providerKeys(all) };
  // validateStackConfig refuses a scope without aws:region.
  return { config: validateStackConfig(projectKeys(all), scope), scope, region: regionOf(scope)! };
}

/** Reads and validates Pulumi.<stack>.yaml next to Pulumi.yaml (no secret value needed). */
export function loadStackFile(stack: string, dir = process.cwd()): StackConfig {
  return loadStack(stack, dir).config;
}

/**
 * A value as the runtime hands it to the program: every value is a string, lists and maps as JSON (the CLI
 * refuses a list key holding anything but a list before the program starts). Numbers and booleans stay
 * strings here and are read by asDeclared, exactly as a stack file's are.
 */
function fromRuntimeString(key: string, v: string): unknown {
  if (declaredTypes[key] !== "array") return v;
  try { return JSON.parse(v); } catch { return v; }
}

/** Reads the running stack's config; secrets are checked for presence and secrecy, their values not kept. */
export function readPulumiConfig(): StackConfig {
  // Loaded here, not at the top: `npm run render` validates without loading Pulumi.
  const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  const raw: Record<string, unknown> = {};
  const all = pulumi.runtime.allConfig();
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${projectName}:`)) continue;
    const key = k.slice(projectName.length + 1);
    if ((secretKeys as readonly string[]).includes(key)) {
      // Stand-in for the ciphertext: the schema checks the key is set as a secret; the value is read with requireSecret.
      raw[key] = runtimeConfig.isConfigSecret?.(k) === false ? v.length > 0 ? "(clear text)" : undefined : { secure: "(set)" };
    } else raw[key] = fromRuntimeString(key, v);
  }
  return validateStackConfig(raw, { stack: pulumi.getStack(), providers: providerKeys(all) });
}

/** The secret values, as Pulumi secrets. */
export function readSecrets(): Record<SecretKey, Pulumi.Output<string>> {
  const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
  const cfg = new pulumi.Config(projectName);
  return { datadogApiKey: cfg.requireSecret("datadogApiKey"), papertrailDestination: cfg.requireSecret("papertrailDestination") };
}
