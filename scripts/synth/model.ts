// The synthesized desired state as files: what `npm run synth` writes and `npm run synth:diff` reads. Pure.
// Layout of a synthesized folder:
//   synth.json              stack, project, how it was made (what is a stand-in value)
//   config.json             the stack's config as the program read it, secrets as "[secret]"
//   resources.json          every resource, sorted by URN: type, name, parent, options, inputs
//   outputs.json            the stack's outputs
//   hosts/<name>/...        every file the user-data of resource <name> writes, at its host path, and
//   hosts/<name>/cloud-config.yaml   that user-data with each file's content replaced by its sha256
//   dynamic-providers/<name>.js      the serialized code of a dynamic provider

/** The value a secret is written as. */
export const SECRET = "[secret]";
/** The value of an input the stand-in engine could not know (a preview's computed value). */
export const UNKNOWN_VALUE = "[unknown]";

export interface ResourceOptions {
  /** As declared on the resource; `protect` and `retainOnDelete` at the resource's top are the effective ones. */
  protect?: boolean;
  retainOnDelete?: boolean;
  deleteBeforeReplace?: boolean;
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  /** Other URNs the resource answers to (aliases, with the ones inherited from its parent's aliases). */
  aliases?: string[];
  /** Explicit dependencies: the dependencies that no input carries (components expanded to their resources). */
  dependsOn?: string[];
  customTimeouts?: Record<string, string>;
  additionalSecretOutputs?: string[];
  provider?: string;
  deletedWith?: string;
  version?: string;
}

export interface SynthResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent ("" for the stack itself). */
  parent: string;
  custom: boolean;
  /** Effective protect and retainOnDelete (a child inherits its parent's when it sets none). */
  protect: boolean;
  retainOnDelete: boolean;
  options: ResourceOptions;
  inputs: Record<string, unknown>;
  /** Input name to the URNs whose outputs it is computed from (only the inputs that have some). */
  inputDependencies?: Record<string, string[]>;
}

export interface SynthMeta {
  project: string;
  stack: string;
  note: string;
}

/** A synthesized state: file path (relative, "/"-separated) to content. */
export type SynthFiles = Map<string, string>;

/** Objects with their keys sorted, at every depth (arrays keep their order: it is meaningful). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Canonical JSON text: sorted keys, two-space indent, trailing newline. */
export function canonicalJson(v: unknown): string {
  return `${JSON.stringify(sortKeys(v), null, 2)}\n`;
}

/** The URN without its stack, so that the same resource of two stacks (dev, prod) is matched. */
export function stackless(urn: string): string {
  return urn.replace(/^urn:pulumi:[^:]+::/, "urn:pulumi:*::");
}
