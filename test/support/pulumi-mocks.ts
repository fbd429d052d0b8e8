// Pulumi mocks shared by the component and stack tests. `newResource` answers plausible ids, ARNs and
// DNS names; `call` answers only the lookups listed in `lookups` and throws on anything else, so a
// component that starts calling an unexpected data source fails its tests instead of passing on
// made-up data. Every registration is recorded with its inputs, and with the raw wire form of those
// inputs, in which Pulumi secrets are still wrapped: that is how tests tell a secret input from a
// value in clear text.
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";
export const MOCK_AMI_ID = "ami-0123456789abcdef0";

/** Pulumi's wire signature for a secret value (runtime/rpc.ts specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Inputs as sent over the wire: secrets appear as { [SIG_KEY]: SECRET_SIG, value }. */
  wire: unknown;
}

export interface MockRecorder {
  resources: RecordedResource[];
  /** Raw wire form of every registerResourceOutputs call (components and the stack), by URN. */
  outputWires: Map<string, unknown>;
  calls: { token: string; inputs: Record<string, any> }[];
  ofType(type: string): RecordedResource[];
  one(type: string): RecordedResource;
  /** Forgets what earlier tests recorded; the monitor itself lives for the whole file. */
  clear(): void;
}

const lookups: Record<string, (inputs: Record<string, any>) => Record<string, unknown>> = {
  "aws:ec2/getAmi:getAmi": (i) => ({
    id: MOCK_AMI_ID,
    imageId: MOCK_AMI_ID,
    name: String(i.filters?.find((f: any) => f.name === "name")?.values?.[0] ?? "debian-12-amd64-mock").replace("*", "20251006-2257"),
    ownerId: i.owners?.[0],
    architecture: "x86_64",
    rootDeviceName: "/dev/xvda",
  }),
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    id: REGION,
    names: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
    zoneIds: ["use1-az1", "use1-az2", "use1-az4"],
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: ACCOUNT_ID,
    accountId: ACCOUNT_ID,
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`,
    userId: "AIDATEST",
  }),
  "aws:index/getRegion:getRegion": () => ({ id: REGION, name: REGION, region: REGION, endpoint: `ec2.${REGION}.amazonaws.com` }),
  // The IAM actions Datadog's AWS integration documents (a few of them: enough for the role policy).
  "datadog:aws/getIntegrationIamPermissionsStandard:getIntegrationIamPermissionsStandard": () => ({
    id: "standard",
    iamPermissions: ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:DescribeInstances", "tag:GetResources"],
  }),
  "aws:index/getPartition:getPartition": () => ({ id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" }),
};

/** Plausible provider-computed outputs per resource type. */
function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const svc = type.split(":")[1]?.split("/")[0] ?? "x";
  const base: Record<string, unknown> = { arn: `arn:aws:${svc}:${REGION}:${ACCOUNT_ID}:${name}` };
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return { ...base, arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:loadbalancer/app/${name}/50dc6c495c0c9188`, arnSuffix: `app/${name}/50dc6c495c0c9188`, dnsName: `${name}-1234567890.${REGION}.elb.amazonaws.com`, zoneId: "Z35SXDOTRQ7X7K" };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...base, arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/${name}/73e2d6bc24d8a067`, arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067` };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, latestVersion: 1, defaultVersion: 1 };
    case "aws:s3/bucket:Bucket": {
      const bucket = inputs.bucket ?? `${name}-a1b2c3`;
      return { ...base, bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com` };
    }
    case "aws:ssm/parameter:Parameter":
      return { ...base, arn: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${inputs.name}` };
    case "aws:kms/key:Key":
      return { ...base, arn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${name}-0000`, keyId: `${name}-0000` };
    case "aws:iam/role:Role":
    case "aws:iam/instanceProfile:InstanceProfile":
      return { ...base, arn: `arn:aws:iam::${ACCOUNT_ID}:${type.endsWith("Role") ? "role" : "instance-profile"}/${name}-x1`, name: inputs.name ?? `${name}-x1` };
    case "aws:autoscaling/group:Group":
      return { ...base, name: inputs.name ?? `${name}-x1` };
    case "aws:ec2/vpc:Vpc":
      return { ...base, cidrBlock: inputs.cidrBlock };
    default:
      return { ...base, name: inputs.name ?? `${name}-x1` };
  }
}

export interface MockOptions {
  project?: string;
  stack?: string;
  /** Full config keys ("project:key") to plain string values, as the CLI passes them. */
  config?: Record<string, string>;
  secretKeys?: string[];
}

export async function setupMocks(opts: MockOptions = {}): Promise<MockRecorder> {
  const resources: RecordedResource[] = [];
  const calls: MockRecorder["calls"] = [];
  const wires = new Map<string, unknown>();
  const outputWires = new Map<string, unknown>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const key = `${args.type}::${args.name}`;
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, wire: wires.get(key) });
      return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) } };
    },
    call(args) {
      calls.push({ token: args.token, inputs: args.inputs });
      const answer = lookups[args.token];
      if (!answer) throw new Error(`unmocked call ${args.token}: add it to test/support/pulumi-mocks.ts only if the component truly needs it`);
      return answer(args.inputs);
    },
  };
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
  await pulumi.runtime.setMocks(mocks, opts.project ?? "node-service-aws", opts.stack ?? "test", false);
  // Capture the raw wire inputs before the mock monitor unwraps secrets for newResource.
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    wires.set(`${req.getType()}::${req.getName()}`, req.getObject()?.toJavaScript());
    return register(req, cb);
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, cb: any) => {
    outputWires.set(req.getUrn(), req.getOutputs()?.toJavaScript());
    return registerOutputs(req, cb);
  };
  return {
    resources,
    outputWires,
    calls,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type) {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0]!;
    },
    clear() {
      resources.length = 0;
      calls.length = 0;
    },
  };
}

export interface ProgramRun<T> {
  outputs: T;
  /** Resource options as given, by "type::name" (ignoreChanges, protect, ... are not part of the inputs). */
  options: Map<string, pulumi.ResourceOptions>;
}

/** Runs `program` as the CLI would: inside a root stack, its result as the stack outputs. */
export async function runProgram<T extends Record<string, unknown>>(program: () => T): Promise<ProgramRun<Record<string, unknown>>> {
  const options = new Map<string, pulumi.ResourceOptions>();
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      options.set(`${a.type}::${a.name}`, a.opts);
      return undefined;
    });
    return program();
  });
  await settle();
  return { outputs: (outputs ?? {}) as Record<string, unknown>, options };
}

/** Waits until every registration started so far reached the mocks. */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings");
  await settings.waitForRPCs();
}

/** Resolves an Output in a test (mocks run applies, also of unknown-free values). */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => { resolve(v as T); return v; }));
}

/** Paths of strings in `wire` that contain `marker` outside of a secret wrapper. */
export function clearTextPaths(wire: unknown, marker: string, path = "$"): string[] {
  if (typeof wire === "string") return wire.includes(marker) ? [path] : [];
  if (Array.isArray(wire)) return wire.flatMap((v, i) => clearTextPaths(v, marker, `${path}[${i}]`));
  if (wire && typeof wire === "object") {
    const o = wire as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return [];
    return Object.entries(o).flatMap(([k, v]) => clearTextPaths(v, marker, `${path}.${k}`));
  }
  return [];
}

/** True when the wire value at `key` is a Pulumi secret. */
export function isSecretOnWire(wire: unknown, key: string): boolean {
  const v = (wire as Record<string, any> | undefined)?.[key];
  return !!v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG;
}
