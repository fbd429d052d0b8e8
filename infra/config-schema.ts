// The stack configuration's one schema: every key, its type, default, description and limits, as
// Pulumi.yaml declares them (a test compares the two) and as `npm run docs:config` prints them into
// infra/README.md. infra/config.ts validates with it; nothing here reads a file or the runtime.
import { z } from "zod";
import { defaultBundlePath } from "../components/bundle/rules";
import { debian12NamePattern } from "../components/fleet/rules";
import { defaultBootBudget } from "../contract/boot";
import { serviceDefaults } from "../contract/service";

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
const cidr = (hint: string, o: { prefix?: [number, number]; orEmpty?: boolean } = {}) =>
  z.string().superRefine((v, ctx) => {
    if (v === "" && o.orEmpty) return;
    const bits = Number(v.split("/")[1]);
    if (!z.cidrv4().safeParse(v).success || (o.prefix && (bits < o.prefix[0] || bits > o.prefix[1])))
      ctx.addIssue({ code: "custom", message: hint });
    else if (networkAddress(v) !== v)
      ctx.addIssue({ code: "custom", message: `${v} is not a network address; did you mean ${networkAddress(v)}?` });
  });
const ipv4Cidr = cidr("must be an IPv4 CIDR like 10.0.0.0/16");
const int = (min: number, max: number) =>
  z.number().int(`must be an integer`).min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);
/** "" means unset: Pulumi.yaml needs a default for every optional key, and "" is that default. */
const optionalString = (re: RegExp, hint: string) =>
  z
    .string()
    .refine((s) => s === "" || re.test(s), hint)
    .default("");
/**
 * A switch whose default is the environment's (envDefaults): "true", "false", or "" for on in prod, off elsewhere.
 * A string, not a boolean, since Pulumi.yaml needs a default for every optional key and a boolean has no "unset".
 */
const onInProd = z
  .enum(["", "true", "false"], 'must be "true" or "false", or "" for the default (on in prod only)')
  .default("")
  .transform((v) => (v === "" ? undefined : v === "true"));
const secret = (key: SecretKey) =>
  z.object(
    { secure: z.string().min(1) },
    {
      error: (i) =>
        i.input === undefined
          ? `missing: run pulumi config set --secret ${key} <value>`
          : `must be a secret, not clear text: run pulumi config set --secret ${key} <value>`,
    },
  );

/** Every key, its type, default and description: Pulumi.yaml's `config:` block mirrors this (a test checks it). */
export const stackConfigSchema = z.strictObject({
  env: z
    .string({
      error: (i) => (i.input === undefined ? "missing: set it, e.g. pulumi config set env dev" : "must be a string"),
    })
    .regex(/^[a-z][a-z0-9-]{0,15}$/, "must be lowercase letters, digits or dashes, e.g. dev or prod")
    .describe("Environment name, the stack's name: DD_ENV, tags, SSM parameter path, KMS alias"),
  serviceName: z
    .string()
    .default(serviceDefaults.name)
    .describe("ServiceSettings.name: unit, user, log folder, DD_SERVICE"),
  port: int(1, 65535).default(serviceDefaults.port).describe("Port the service listens on"),
  workers: int(0, 256).default(0).describe("Workers per host; 0 = one per core"),
  drainDelayMs: int(0, 600_000)
    .default(serviceDefaults.drainDelayMs)
    .describe("Readiness fails this long before the service stops accepting"),
  shutdownTimeoutMs: int(1, 3_600_000)
    .default(serviceDefaults.shutdownTimeoutMs)
    .describe("Deadline of a graceful shutdown, drain delay included"),
  keepAliveTimeoutMs: int(1, 3_600_000)
    .default(serviceDefaults.keepAliveTimeoutMs)
    .describe("Service keep-alive; must exceed idleTimeoutSec"),
  headersTimeoutMs: int(1, 3_600_000)
    .default(serviceDefaults.headersTimeoutMs)
    .describe("Service headers timeout; must exceed keepAliveTimeoutMs"),

  loadBalancer: z
    .enum(["alb", "haproxy"], "must be alb or haproxy")
    .default("alb")
    .describe("Flavor: alb (ALB + Auto Scaling group) or haproxy (NLB + HAProxy nodes + fixed fleet)"),
  // The docker target (issue 14): the same program on a local Docker engine; the AWS keys and secrets are unused there.
  target: z
    .enum(["aws", "docker"], "must be aws or docker")
    .default("aws")
    .describe(
      "Where the stack runs: aws (the loadBalancer flavor on EC2) or docker (containers on the local Docker engine)",
    ),
  dockerContainers: int(1, 20).default(2).describe("target docker: service containers behind HAProxy"),
  dockerHostPort: int(1, 65535).default(8080).describe("target docker: host port of HAProxy, on 127.0.0.1 only"),
  dockerLogDriver: z
    .enum(["json-file", "journald"], "must be json-file or journald")
    .default("json-file")
    .describe("target docker: the containers' log driver: json-file (rotated, any engine) or journald (Linux hosts)"),
  dockerMetricsSink: z
    .boolean()
    .default(false)
    .describe("target docker: a DogStatsD sink container that prints the service's metrics to its log"),
  vpcId: optionalString(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id like vpc-0abc12345678def90").describe(
    "Existing VPC to use; empty = create one",
  ),
  publicSubnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be subnet ids"))
    .default([])
    .describe("Public subnets of vpcId (load balancer)"),
  privateSubnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be subnet ids"))
    .default([])
    .describe("Private subnets of vpcId (instances)"),
  // AWS takes /16 to /28 for a VPC; the subnets carved from it (components/network) need /20 or larger.
  vpcCidr: cidr("must be an IPv4 CIDR from /16 to /20, like 10.0.0.0/16", { prefix: [16, 20], orEmpty: true })
    .default("")
    .describe("IPv4 network CIDR (/16 to /20) of the VPC to create; empty = 10.0.0.0/16"),
  azCount: int(2, 6).default(2).describe("AZs of the created VPC"),
  natGatewayPerAz: z.boolean().default(false).describe("One NAT gateway per AZ instead of one shared"),
  vpcInterfaceEndpoints: onInProd.describe(
    'SSM, SSM messages, EC2 messages, KMS and CloudWatch interface endpoints in the created VPC; "" = on in prod only',
  ),
  vpcFlowLogs: onInProd.describe('VPC flow logs; "" = on in prod only'),

  instanceType: z
    .string()
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type like t3.small")
    .default("t3.small")
    .describe("EC2 instance type"),
  amiId: optionalString(/^ami-[0-9a-f]{8,17}$/, "must be an AMI id like ami-0123456789abcdef0").describe(
    "Image id, pinned (prod requires it); empty = the newest image named amiName",
  ),
  amiName: z
    .string()
    .min(1)
    .default(debian12NamePattern)
    .describe("Official Debian AMI name or pattern (owner 136693071363), looked up when amiId is empty"),
  rootVolumeGb: int(8, 1024).default(8).describe("gp3 root volume size"),
  minSize: int(1, 100).default(1).describe("Fewest instances"),
  maxSize: int(1, 100).default(2).describe("Most instances"),
  warmPool: z.boolean().default(false).describe("Keep stopped, pre-booted instances for fast scale-out"),
  warmPoolMinSize: int(0, 100).default(1).describe("Instances kept in the warm pool"),
  healthCheckGracePeriodSec: int(0, 7200)
    .default(defaultBootBudget.healthCheckGracePeriodSec)
    .describe(
      "Time a new instance has to boot before ELB health counts; at least the boot budget's (contract/boot.ts)",
    ),
  lifecycleHookTimeoutSec: int(30, 7200)
    .default(defaultBootBudget.lifecycleHookTimeoutSec)
    .describe(
      "Time a launching instance has to get ready before it is abandoned; at least the boot budget's (contract/boot.ts)",
    ),
  instanceWarmupSec: int(0, 3600).default(120).describe("Warm-up of a new instance for refresh and scaling"),
  checkpointPercentages: z.array(int(1, 100)).default([50, 100]).describe("Instance refresh pauses after these shares"),
  checkpointDelaySec: int(0, 172_800).default(300).describe("Pause at each checkpoint"),
  maxHealthyPercentage: int(101, 200).default(200).describe("Capacity ceiling during a refresh (new before old)"),
  requestsPerTarget: int(1, 1_000_000).default(1000).describe("Target tracking: requests per target per minute"),

  certificateArn: optionalString(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
    "must be an ACM certificate ARN",
  ).describe("ACM certificate covering domainName: HTTPS; empty = plain HTTP (dev only)"),
  domainName: z
    .string()
    .default("")
    .describe(
      "The service's host name, like api.example.com: serviceUrl, covered by certificateArn; empty = the load balancer's AWS name (dev only)",
    ),
  hostedZoneId: z
    .string()
    .default("")
    .describe(
      "Route 53 public hosted zone of domainName, where the stack makes its alias record; empty = you point domainName at the load balancer",
    ),
  allowedCidrs: z
    .array(ipv4Cidr)
    .min(1, "needs at least one CIDR")
    .default(["0.0.0.0/0"])
    .describe("IPv4 network CIDRs of the clients allowed to reach the load balancer"),
  idleTimeoutSec: int(1, 4000).default(60).describe("Load balancer idle timeout"),
  deregistrationDelaySec: int(0, 3600).default(30).describe("Above drainDelayMs, below the systemd stop timeout"),
  slowStartSec: int(0, 900).default(30).describe("Ramp-up of a new target (0 or 30-900)"),
  deletionProtection: z.boolean().default(false).describe("Load balancer deletion protection"),
  protect: z.boolean().default(false).describe("Pulumi protect on stateful resources; buckets not force-destroyed"),
  bundlePath: z
    .string()
    .min(1)
    .default(defaultBundlePath)
    .describe("Built bundle uploaded as the release (npm run build writes it)"),
  s3AccessLogs: onInProd.describe(
    'S3 server access logs of the bundle and load balancer log buckets; "" = on in prod only',
  ),
  nlbAccessLogs: onInProd.describe(
    'Access logs of the HAProxy flavor\'s NLB (TLS only: needs certificateArn); "" = on in prod only',
  ),
  accessLogRetentionDays: int(1, 3650).default(30).describe("Days load balancer access logs are kept"),
  bundleRetentionDays: int(1, 3650).default(30).describe("Days old bundle versions are kept"),

  secretsOperatorArns: z
    .array(
      z
        .string()
        .regex(
          /^arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)\/[\w+=,.@/*-]+)$/,
          "must be IAM user or role ARNs (a * matches like aws:PrincipalArn), like arn:aws:iam::111122223333:role/Ops",
        ),
    )
    .default([])
    .describe(
      "IAM principals that may put and decrypt the secrets through SSM besides the hosts; list the identity running pulumi up too; empty = that identity",
    ),

  datadogSite: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]+$/, "must be a host name like datadoghq.com")
    .default("datadoghq.com")
    .describe("Datadog site parameter of the agents (datadoghq.com = US1); another site also needs datadog:apiUrl"),
  alertEmails: z
    .array(z.string().email("must be e-mail addresses"))
    .default([])
    .describe("E-mail subscribers of the alarm topic"),
  datadogNotifyHandles: z
    .array(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "must be handles without the @, like slack-ops"))
    .default([])
    .describe("Datadog monitor notification handles, without the @"),
  createDatadogIntegration: z
    .boolean()
    .default(false)
    .describe("Create the account-wide Datadog AWS integration (one stack per account)"),

  datadogApiKey: secret("datadogApiKey").describe("Secret: Datadog API key, stored as SSM SecureString"),
  papertrailDestination: secret("papertrailDestination").describe(
    "Secret: Papertrail host:port, stored as SSM SecureString",
  ),
});

export type ParsedStackConfig = z.output<typeof stackConfigSchema>;
/** Switches on in prod and off elsewhere unless set: the one place that says so is envDefaults. */
export const prodDefaultKeys = ["vpcInterfaceEndpoints", "vpcFlowLogs", "s3AccessLogs", "nlbAccessLogs"] as const;
export type ProdDefaultKey = (typeof prodDefaultKeys)[number];
/** The validated config: every key but the secrets, whose values the program reads with requireSecret. */
export type StackConfig = Omit<ParsedStackConfig, SecretKey | ProdDefaultKey> & Record<ProdDefaultKey, boolean>;

/** A parsed config with each unset prodDefaultKeys switch resolved from env: on in prod, off elsewhere. */
export function envDefaults<C extends Pick<ParsedStackConfig, "env" | ProdDefaultKey>>(
  c: C,
): Omit<C, ProdDefaultKey> & Record<ProdDefaultKey, boolean> {
  const prod = c.env === "prod";
  return { ...c, ...Object.fromEntries(prodDefaultKeys.map((k) => [k, c[k] ?? prod])) } as Omit<C, ProdDefaultKey> &
    Record<ProdDefaultKey, boolean>;
}

/** Each key's type as Pulumi.yaml declares it: the schema's JSON Schema type (a test compares the two). */
export const declaredTypes: Record<string, string | undefined> = Object.fromEntries(
  Object.entries(stackConfigSchema.shape).map(([key, schema]) => [
    key,
    (schema.toJSONSchema({ io: "input" }) as { type?: string }).type,
  ]),
);

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
