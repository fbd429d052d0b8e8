// Validation of the stack configuration (the schema is infra/config-schema.ts). The same function
// validates the config the Pulumi CLI hands the program (strings, secrets decrypted) and a
// Pulumi.<stack>.yaml parsed from disk (native YAML types, secrets still `secure:` ciphertext), reading both
// through the CLI's own coercions (asDeclared), for the stack and region it is deployed to (StackScope),
// so `npm run render`, the tests and `pulumi up` refuse exactly the same mistakes, each with one message
// naming the key and the fix.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as Pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { checkAlbTimings } from "../components/alb/rules";
import { debianOwnerId } from "../components/fleet/rules";
import { checkServiceDnsArgs } from "../components/dns/rules";
import { checkNetworkArgs } from "../components/network/rules";
import { defaultBootBudget } from "../contract/boot";
import { ssmParameterNames } from "../contract/layout";
import { Problem, formatProblem, namesFrom, renameFields } from "../contract/problem";
import { checkServiceSettings } from "../contract/service";
import {
  ParsedStackConfig,
  SecretKey,
  StackConfig,
  asDeclared,
  declaredTypes,
  envDefaults,
  projectName,
  secretKeys,
  stackConfigSchema,
} from "./config-schema";
import { serviceSettingsOf } from "./host-input";
import { checkUserDataSize } from "./user-data-size";
export { serviceSettingsOf };
export { asDeclared, networkAddress, projectName, secretKeys, stackConfigSchema } from "./config-schema";
export type { SecretKey, StackConfig } from "./config-schema";

/** An exact Debian 12 image name, for messages. */
const debian12Example = "debian-12-amd64-20251006-2257";

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
function combinationErrors(c: ParsedStackConfig, region = "<region>"): string[] {
  const shared = [
    ...checkServiceSettings(serviceSettingsOf(envDefaults(c)), configKeyOf),
    // The schema already bounds idleTimeoutSec, with its own message.
    ...checkAlbTimings(c, configKeyOf).filter((p) => p.field !== "idleTimeoutSec"),
    ...checkNetworkArgs(
      {
        vpcId: c.vpcId || undefined,
        cidrBlock: c.vpcCidr || undefined,
        publicSubnetIds: c.publicSubnetIds.length ? c.publicSubnetIds : undefined,
        privateSubnetIds: c.privateSubnetIds.length ? c.privateSubnetIds : undefined,
      },
      configKeyOf,
    ),
  ];
  const errors = renameFields(shared, configKeyOf).map(formatProblem);
  if (c.vpcId && c.natGatewayPerAz)
    errors.push("natGatewayPerAz: applies only to a created VPC; drop it when vpcId is given");
  if (c.vpcId && (c.publicSubnetIds.length === 1 || c.privateSubnetIds.length === 1))
    errors.push("privateSubnetIds/publicSubnetIds: give at least 2 of each, in different AZs");
  const prod = c.env === "prod";
  if (c.minSize > c.maxSize)
    errors.push(`minSize: ${c.minSize} is above maxSize (${c.maxSize}): lower minSize or raise maxSize`);
  if (prod && c.minSize < 2)
    errors.push(`minSize: prod needs at least 2 instances (one AZ or instance may fail): set minSize >= 2`);
  // By id: a new Debian release cannot roll the fleet by itself, and the lookup finds the image by id even
  // once it is deprecated (components/fleet/image.ts passes includeDeprecated).
  if (prod && !c.amiId) {
    const name = c.amiName.includes("*") ? debian12Example : c.amiName;
    errors.push(
      `amiId: prod pins its image by id, so a new AMI is a deliberate rollout: find the id of ${name} with ` +
        `aws ec2 describe-images --region ${region} --owners ${debianOwnerId} --include-deprecated --filters Name=name,Values=${name} ` +
        `--query 'Images[0].ImageId' --output text, then pulumi config set amiId <id>`,
    );
  }
  if (prod && !c.certificateArn) errors.push("certificateArn: prod serves HTTPS only: set an ACM certificate ARN");
  if (prod && !c.domainName)
    errors.push(
      "domainName: prod serves HTTPS, and no certificate can cover the load balancer's AWS name (*.elb.amazonaws.com): set the name the certificate covers: pulumi config set domainName <name>",
    );
  if (c.hostedZoneId && !c.domainName)
    errors.push("hostedZoneId: needs domainName, the record's name: pulumi config set domainName <name>");
  if (c.domainName)
    errors.push(
      ...renameFields(
        checkServiceDnsArgs({ domainName: c.domainName, hostedZoneId: c.hostedZoneId || undefined }, configKeyOf),
        configKeyOf,
      ).map(formatProblem),
    );
  if (prod && !c.deletionProtection)
    errors.push("deletionProtection: prod load balancer must be protected: set deletionProtection: true");
  const cp = c.checkpointPercentages;
  if (cp.length === 0 || cp[cp.length - 1] !== 100 || cp.some((v, i) => i > 0 && v <= cp[i - 1]!))
    errors.push(`checkpointPercentages: [${cp.join(", ")}] must rise strictly and end at 100, e.g. [50, 100]`);
  if (c.warmPool && c.warmPoolMinSize > c.maxSize)
    errors.push(`warmPoolMinSize: ${c.warmPoolMinSize} is above maxSize (${c.maxSize})`);
  if (c.loadBalancer === "haproxy" && c.nlbAccessLogs === true && !c.certificateArn)
    errors.push('nlbAccessLogs: an NLB logs TLS connections only: set certificateArn too, or nlbAccessLogs: "false"');
  if (c.vpcId && c.vpcInterfaceEndpoints === true)
    errors.push("vpcInterfaceEndpoints: applies only to a created VPC; add the endpoints to vpcId's VPC yourself");
  errors.push(...bootBudgetErrors(c));
  return errors;
}

/** The boot's timings may not be shorter than the boot budget (contract/boot.ts) gives a host. */
function bootBudgetErrors(c: Pick<ParsedStackConfig, "healthCheckGracePeriodSec" | "lifecycleHookTimeoutSec">) {
  const b = defaultBootBudget;
  const why = (key: string, value: number, min: number, rule: string) =>
    `${key}: ${value} s is below the minimum ${min} s: a host took at least ${b.measuredBootSec} s from cloud-init's start ` +
    `to ready in the VM boot test (measuredBootSec in contract/boot.ts), and ${rule}: set ${min} or more, or remove the key for that default`;
  const errors: string[] = [];
  if (c.healthCheckGracePeriodSec < b.healthCheckGracePeriodSec)
    errors.push(
      why(
        "healthCheckGracePeriodSec",
        c.healthCheckGracePeriodSec,
        b.healthCheckGracePeriodSec,
        "the grace period is at least twice that and never below 300 s",
      ),
    );
  if (c.lifecycleHookTimeoutSec < b.lifecycleHookTimeoutSec)
    errors.push(
      why(
        "lifecycleHookTimeoutSec",
        c.lifecycleHookTimeoutSec,
        b.lifecycleHookTimeoutSec,
        `the launch hook gets the grace period plus ${b.lifecycleHookTimeoutSec - b.healthCheckGracePeriodSec} s for EC2's own start before cloud-init`,
      ),
    );
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
function scopeProblems(c: ParsedStackConfig, scope: StackScope): Problem[] {
  const problems: Problem[] = [];
  if (c.env !== scope.stack) {
    const ssm = ssmParameterNames(c.serviceName, c.env).datadogApiKey.replace(/[^/]+$/, "...");
    problems.push({
      field: "env",
      message:
        `"${c.env}" but this stack is ${scope.stack}: env names this stack's resources in the account (KMS alias alias/${c.serviceName}-${c.env}-ssm, ` +
        `SSM parameters ${ssm}, the HAProxy fleet's Fleet tag ${c.serviceName}-${c.env}) and its Datadog env tag, so two stacks with one env ` +
        `overwrite or deploy onto each other: set env to the stack's name: pulumi config set env ${scope.stack}`,
    });
  }
  problems.push(...datadogApiProblems(c.datadogSite, scope.providers["datadog:apiUrl"]));
  const region = regionOf(scope);
  // target docker makes no AWS call: no region.
  if (c.target === "docker") return problems;
  if (!region)
    problems.push({ field: "aws:region", message: "missing: pulumi config set aws:region <region>, e.g. us-east-1" });
  // The host files' own check (host/input.ts checkHostBase), said here under the key.
  else if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.push({ field: "aws:region", message: `"${region}" is not an AWS region name like us-east-1` });
  return problems;
}

/**
 * The stack's monitors, dashboard and integration go through the default Datadog provider, whose API is
 * datadog:apiUrl, "https://api.datadoghq.com" unless set (@pulumi/datadog config apiUrl; Datadog sites:
 * site parameter <site>, API https://api.<site>/). It must be datadogSite's, which the hosts' agents use.
 */
function datadogApiProblems(site: string, apiUrl: unknown): Problem[] {
  const expected = `https://api.${site}/`;
  const fix = `pulumi config set datadog:apiUrl ${expected}`;
  if (apiUrl === undefined || apiUrl === "") {
    return site === "datadoghq.com"
      ? []
      : [
          {
            field: "datadog:apiUrl",
            message: `missing for datadogSite ${site} (the provider's default is US1, https://api.datadoghq.com/): ${fix}`,
          },
        ];
  }
  // Its host, over https, and no path: the provider's doc says the URL "must not end with the /api/ path".
  let ok = false;
  try {
    const u = new URL(String(apiUrl));
    ok = u.protocol === "https:" && u.host === `api.${site}` && u.pathname === "/";
  } catch {
    /* not a URL */
  }
  return ok
    ? []
    : [{ field: "datadog:apiUrl", message: `${String(apiUrl)} is not the API of datadogSite ${site}: ${fix}` }];
}

/**
 * Validates a config object keyed without the project prefix, for the stack and region it is deployed
 * to; throws ConfigError listing every problem.
 */
export function validateStackConfig(given: Record<string, unknown>, scope: StackScope): StackConfig {
  const raw = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, asDeclared(k, v)]));
  // target docker reads no secret (no SSM, no agent): a stand-in satisfies the schema and is dropped below.
  if (raw.target === "docker") for (const k of secretKeys) raw[k] ??= { secure: "(unused on target docker)" };
  const r = stackConfigSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new ConfigError(r.error.issues.flatMap(formatIssue));
  const errors = [...combinationErrors(r.data, regionOf(scope)), ...scopeProblems(r.data, scope).map(formatProblem)];
  if (errors.length) throw new ConfigError(errors);
  const { datadogApiKey: _d, papertrailDestination: _p, ...rest } = r.data;
  const config = envDefaults(rest);
  // Rendered from a config that passed every other check, for the stack's region.
  const tooLarge = config.target === "aws" ? checkUserDataSize(config, regionOf(scope)!) : [];
  if (tooLarge.length) throw new ConfigError(tooLarge.map(formatProblem));
  return config;
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

/** The keys of other namespaces the checks read. Only these: the others include the Datadog provider's secret keys. */
export const providerKeysRead = ["aws:region", "datadog:apiUrl"] as const;

/** The keys of providerKeysRead that a config map sets. */
export function providerKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).filter(([k]) => (providerKeysRead as readonly string[]).includes(k)),
  );
}

/** Reads and validates Pulumi.<stack>.yaml next to Pulumi.yaml (no secret value needed), with the scope it was checked for. */
export function loadStack(
  stack: string,
  dir = process.cwd(),
): { config: StackConfig; scope: StackScope; region: string } {
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
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
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
      raw[key] =
        runtimeConfig.isConfigSecret?.(k) === false ? (v.length > 0 ? "(clear text)" : undefined) : { secure: "(set)" };
    } else raw[key] = fromRuntimeString(key, v);
  }
  return validateStackConfig(raw, { stack: pulumi.getStack(), providers: providerKeys(all) });
}

/** The secret values, as Pulumi secrets. */
export function readSecrets(): Record<SecretKey, Pulumi.Output<string>> {
  const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
  const cfg = new pulumi.Config(projectName);
  return {
    datadogApiKey: cfg.requireSecret("datadogApiKey"),
    papertrailDestination: cfg.requireSecret("papertrailDestination"),
  };
}
