// Calls a policy the way @pulumi/policy 1.21.0's analyzer server does (server.js makeAnalyzeRpcFun /
// makeAnalyzeStackRpcFun), so a test sees exactly the arguments the CLI's policy run passes:
// - properties go through the SDK's own deserializer (a protobuf Struct, secrets unwrapped, assets as Asset
//   objects) and its unknownCheckingProxy, so reading a value unknown in preview throws UnknownValueError;
// - opts carry protect, ignoreChanges, aliases, customTimeouts, additionalSecretOutputs, deleteBeforeReplace only
//   when defined and parent only when set; a stack resource's parent, dependencies and propertyDependencies are
//   the other PolicyResource objects, looked up by URN (unknown URNs dropped, as the server drops them);
// - getConfig returns the policy's config without enforcementLevel: what the CLI sends after filling each
//   schema default (ReconcilePolicyPackConfig in pulumi/pulumi) and applying the user's pack config;
// - notApplicable throws, and the caller records the reason; reportViolation records (message, urn).
import { createRequire } from "node:module";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import type {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

const fromPolicy = createRequire(require.resolve("@pulumi/policy/package.json"));
const { deserializeProperties } = fromPolicy("./deserialize.js");
const { Struct } = fromPolicy("google-protobuf/google/protobuf/struct_pb.js");

/** A resource as the engine describes it to an analyzer (AnalyzerResource / AnalyzerStackResource). */
export interface ResourceSpec {
  type: string;
  name: string;
  /** Properties in wire form (secrets and assets with Pulumi's signatures) or plain. */
  props: Record<string, any>;
  urn?: string;
  protect?: boolean;
  ignoreChanges?: string[];
  aliases?: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  /** The parent's URN. */
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
  message: string;
  urn?: string;
}

export interface Outcome {
  violations: Violation[];
  /** The reason given to notApplicable, when the policy called it. */
  notApplicable?: string;
  /** The UnknownValueError message, when the policy read a value unknown in preview (the CLI makes it advisory). */
  unknown?: string;
}

class NotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}
const throwNotApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

export const urnOf = (s: ResourceSpec) => s.urn ?? `urn:pulumi:test::test::${s.type}::${s.name}`;

/** The properties as the server hands them over. */
function propsOf(props: object): Record<string, any> {
  const struct = Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
  return unknownCheckingProxy(deserializeProperties(struct, false));
}

function optsOf(s: ResourceSpec): PolicyResourceOptions {
  return {
    protect: s.protect ?? false,
    ignoreChanges: s.ignoreChanges ?? [],
    aliases: s.aliases ?? [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: s.additionalSecretOutputs ?? [],
    ...(s.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: s.deleteBeforeReplace } : {}),
    ...(s.parent ? { parent: s.parent } : {}),
  };
}

/** The config the CLI sends the policy: each schema default, then `given` on top. */
export function configFor(p: { configSchema?: { properties: Record<string, any> } }, given: object = {}): object {
  const defaults = Object.fromEntries(
    Object.entries(p.configSchema?.properties ?? {})
      .filter(([, v]) => typeof v === "object" && "default" in v)
      .map(([k, v]) => [k, v.default]),
  );
  return { ...defaults, ...given };
}

async function outcome(run: (report: (message: string, urn?: string) => void) => unknown): Promise<Outcome> {
  const violations: Violation[] = [];
  try {
    await run((message, urn) => violations.push({ message, ...(urn ? { urn } : {}) }));
  } catch (e) {
    if (e instanceof NotApplicable) return { violations, notApplicable: e.reason ?? "" };
    if (e instanceof UnknownValueError) return { violations, unknown: (e as Error).message };
    throw e;
  }
  return { violations };
}

/** Runs a resource policy on one resource, as Analyze does. */
export function validateResource(p: ResourceValidationPolicy, s: ResourceSpec, config: object = {}): Promise<Outcome> {
  const props = propsOf(s.props);
  const args: ResourceValidationArgs = {
    type: s.type,
    props,
    urn: urnOf(s),
    name: s.name,
    opts: optsOf(s),
    stackTags: new Map(),
    isType: (cls: any) => cls?.__pulumiType === s.type,
    asType: ((cls: any) => (cls?.__pulumiType === s.type ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => configFor(p, config) as T,
    notApplicable: throwNotApplicable,
  };
  const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
  return outcome(async (report) => {
    for (const v of validations) await v(args, report);
  });
}

/** The stack's resources as AnalyzeStack hands them over, linked by URN. */
export function stackResources(specs: readonly ResourceSpec[]): PolicyResource[] {
  const resources = specs.map((s) => {
    const props = propsOf(s.props);
    const r: PolicyResource = {
      type: s.type,
      props,
      urn: urnOf(s),
      name: s.name,
      opts: optsOf(s),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls: any) => cls?.__pulumiType === s.type,
      asType: ((cls: any) => (cls?.__pulumiType === s.type ? props : undefined)) as PolicyResource["asType"],
    };
    return r;
  });
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  specs.forEach((s, i) => {
    const r = resources[i]!;
    const parent = s.parent ? byUrn.get(s.parent) : undefined;
    if (parent) r.parent = parent;
    r.dependencies = (s.dependencies ?? []).flatMap((u) => byUrn.get(u) ?? []);
    for (const [k, urns] of Object.entries(s.propertyDependencies ?? {}))
      r.propertyDependencies[k] = urns.flatMap((u) => byUrn.get(u) ?? []);
  });
  return resources;
}

/** Runs a stack policy over the resources, as AnalyzeStack does. */
export function validateStack(
  p: StackValidationPolicy,
  specs: readonly ResourceSpec[],
  config: object = {},
): Promise<Outcome> {
  const args: StackValidationArgs = {
    resources: stackResources(specs),
    stackTags: new Map(),
    getConfig: <T extends object>() => configFor(p, config) as T,
    notApplicable: throwNotApplicable,
  };
  return outcome((report) => p.validateStack(args, report));
}

/** Runs any policy of the pack: a resource policy on each resource in turn, a stack policy on them all. */
export async function runPolicy(
  p: ResourceValidationPolicy | StackValidationPolicy,
  specs: readonly ResourceSpec[],
  config: object = {},
): Promise<Outcome> {
  if ("validateStack" in p) return validateStack(p, specs, config);
  const all: Outcome = { violations: [] };
  for (const s of specs) {
    const o = await validateResource(p, s, config);
    all.violations.push(...o.violations.map((v) => ({ ...v, urn: urnOf(s) })));
    if (o.notApplicable !== undefined) all.notApplicable = o.notApplicable;
    if (o.unknown !== undefined) all.unknown = o.unknown;
  }
  return all;
}
