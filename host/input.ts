// Typed input of the host renderers, its defaults and its checks.
import { withDefaults } from "../contract/defaults";
import { ssmParameterNames } from "../contract/layout";
import { Problem, nested } from "../contract/problem";
import { ServiceSettings, checkServiceSettings, withServiceDefaults } from "../contract/service";
import { checkOutboundAllowList } from "./unit";
import {
  DatadogAgentSource,
  SsmAgentSource,
  checkAgentSources,
  withDatadogAgentDefaults,
  withSsmAgentDefaults,
} from "./packages";

export interface HostInput {
  service: ServiceSettings;
  /** Stack environment, e.g. "dev" or "prod": a tag and part of the SSM parameter names. */
  env: string;
  /** Release id: folder name under releases/ and the `version` tag. */
  version: string;
  /** The built bundle (dist/app/server.js) in S3 and its sha256, checked before it is installed. */
  bundle: { url: string; sha256: string };
  region: string;
  datadogSite: string;
  /**
   * The Node runtime the service runs: the raw `bin/node` of the npm package node-linux-<arch> at `version`
   * (contract/runtime.ts), in S3 beside the bundle. The boot script fetches `url` (s3://<bucket>/<key>) as it
   * fetches the bundle, refuses it unless its sha256 is `sha256`, and installs it root-owned at
   * nodeBinaryPath(version) (contract/layout.ts), which the unit's ExecStart runs. No default.
   */
  runtime: { url: string; sha256: string; version: string };
  /**
   * The SSM agent the boot installs first: `baseUrl` (default AWS's regional bucket
   * `https://s3.<region>.amazonaws.com/amazon-ssm-<region>`; https:// or file://), `version` (default
   * ssmAgentVersion, host/packages.ts) and `keyring` (binary OpenPGP keyring, base64, that must have signed the
   * .deb; default AWS's SSM Agent key, host/keys/amazonSsmAgent.ts).
   */
  ssmAgent: SsmAgentSource;
  /**
   * The Datadog agent: `aptUrl` (default https://apt.datadoghq.com/), `keysUrl` (default
   * https://keys.datadoghq.com; keys are `DATADOG_APT_KEY_<last 8 hex>.public`), `keyFingerprints` (the only keys
   * apt trusts for it; default datadogKeyFingerprints) and `version` (default datadogAgentVersion, installed as
   * `datadog-agent=1:<version>-1` and held).
   */
  datadogAgent: DatadogAgentSource;
  /** Names (never values) of the SSM SecureString parameters read at boot. */
  ssm: { datadogApiKey: string; papertrailDestination: string };
  logs: {
    /** Rotated files kept (one per day, more when maxSize triggers). */
    rotate: number;
    /** logrotate rotates earlier than daily once the file reaches this size. */
    maxSize: string;
    /** Bound of rsyslog's disk queue for Papertrail while it is unreachable. */
    queueMaxDiskSpace: string;
    /** CA bundle Papertrail's certificate is checked against. */
    caFile: string;
  };
  /**
   * Off (undefined) by default. CIDRs, e.g. the VPC's: the service unit may then reach only localhost and
   * these, for a service that calls nothing outside the VPC. The instance metadata service is denied
   * to the service either way.
   */
  allowOutboundOnlyTo?: string[];
}

/** What logging, metrics and secrets need: shared by service hosts and HAProxy nodes (no release, no Node). */
export type HostBase = Omit<HostInput, "version" | "bundle" | "runtime" | "allowOutboundOnlyTo">;

export type HostBaseOptions = Pick<HostInput, "env"> & {
  service?: Partial<ServiceSettings>;
  region?: string;
  datadogSite?: string;
  logs?: Partial<HostInput["logs"]>;
  /** Overrides of the SSM agent's source (see HostInput.ssmAgent); the VM test points it at stand-ins. */
  ssmAgent?: Partial<SsmAgentSource>;
  /** Overrides of the Datadog agent's source (see HostInput.datadogAgent). */
  datadogAgent?: Partial<DatadogAgentSource>;
};

/** What a caller must give; everything else has a default. No field takes a secret value. */
export type HostInputOptions = HostBaseOptions &
  Pick<HostInput, "version" | "bundle" | "runtime" | "allowOutboundOnlyTo">;

export function withHostDefaults(o: HostInputOptions): HostInput {
  const i: HostInput = {
    ...withHostBaseDefaults(o),
    version: o.version,
    bundle: { ...o.bundle },
    runtime: { ...o.runtime },
  };
  if (o.allowOutboundOnlyTo !== undefined) i.allowOutboundOnlyTo = [...o.allowOutboundOnlyTo];
  return i;
}

export function withHostBaseDefaults(o: HostBaseOptions): HostBase {
  const service = withServiceDefaults(o.service);
  const region = o.region ?? "us-east-1";
  return {
    service,
    env: o.env,
    region,
    datadogSite: o.datadogSite ?? "datadoghq.com",
    ssmAgent: withSsmAgentDefaults(region, o.ssmAgent),
    datadogAgent: withDatadogAgentDefaults(o.datadogAgent),
    ssm: ssmParameterNames(service.name, o.env),
    logs: withDefaults(
      { rotate: 14, maxSize: "100M", queueMaxDiskSpace: "1g", caFile: "/etc/ssl/certs/ca-certificates.crt" },
      o.logs,
    ),
  };
}

const s3Url = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,62}\/[A-Za-z0-9!_.*'()/-]+$/;

/** Problems with a host input, each with its field (`service.port`, `bundle.url`, ...); empty when valid. */
export function checkHostInput(i: HostInput): Problem[] {
  const problems = checkHostBase(i);
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(i.version))
    problem("version", `"${i.version}" must be 1-64 letters, digits, dots, dashes or underscores`);
  if (!s3Url.test(i.bundle.url)) problem("bundle.url", `"${i.bundle.url}" must be s3://<bucket>/<key>`);
  if (!/^[0-9a-f]{64}$/.test(i.bundle.sha256)) problem("bundle.sha256", "must be 64 lowercase hex digits");
  if (!s3Url.test(i.runtime.url)) problem("runtime.url", `"${i.runtime.url}" must be s3://<bucket>/<key>`);
  if (!/^[0-9a-f]{64}$/.test(i.runtime.sha256)) problem("runtime.sha256", "must be 64 lowercase hex digits");
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(i.runtime.version))
    problem("runtime.version", `"${i.runtime.version}" must be an exact Node version like 26.12.1`);
  problems.push(...checkOutboundAllowList(i.allowOutboundOnlyTo));
  return problems;
}

/** Problems with the shared part of a host input, each with its field; empty when valid. */
export function checkHostBase(i: HostBase): Problem[] {
  const problems = nested("service", checkServiceSettings(i.service));
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(i.env))
    problem("env", `"${i.env}" must be lowercase letters, digits or dashes (e.g. dev, prod)`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(i.region)) problem("region", `"${i.region}" is not an AWS region name`);
  if (!/^[a-z0-9.-]+\.[a-z]+$/.test(i.datadogSite))
    problem("datadogSite", `"${i.datadogSite}" must be a host name like datadoghq.com`);
  if (!Number.isInteger(i.logs.rotate) || i.logs.rotate < 1)
    problem("logs.rotate", `${i.logs.rotate} must be a positive integer`);
  if (!/^\d+[kMG]?$/.test(i.logs.maxSize)) problem("logs.maxSize", `"${i.logs.maxSize}" must be a size like 100M`);
  if (!/^\d+[kmg]?$/.test(i.logs.queueMaxDiskSpace))
    problem("logs.queueMaxDiskSpace", `"${i.logs.queueMaxDiskSpace}" must be a size like 1g`);
  if (!i.logs.caFile.startsWith("/")) problem("logs.caFile", `"${i.logs.caFile}" must be an absolute path`);
  problems.push(...checkAgentSources(i.ssmAgent, i.datadogAgent));
  return problems;
}
