// The resource graph a run leaves behind (what the engine would checkpoint), and the comparison of two
// releases by URN. The comparison follows the engine's step generator (pkg/resource/deploy in pulumi/pulumi):
// - a custom resource is replaced when an input listed in test/support/engine/replacement.ts or in its own
//   replaceOnChanges changes (ignoreChanges inputs are left out of the diff);
// - a replacement of a resource that is protected in the old and in the new state is refused
//   (step_generator.go: `new.Protect && old.Protect`);
// - the replaced or dropped old resource is deleted unless its OLD state has retainOnDelete
//   (step.go DeleteStep.Apply reads `s.old.RetainOnDelete`): setting it in the same update is too late.
import { ASSET_SIG, SIG_KEY, UNKNOWN, mapWire, plain } from "../wire";
import { makeUrn } from "./aliases";
import { replacementFor } from "./replacement";

export interface Options {
  protect?: boolean;
  retainOnDelete?: boolean;
  deleteBeforeReplace?: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  /** URNs the resource also answers to. */
  aliases: string[];
  provider: string;
  deletedWith: string;
  version: string;
  additionalSecretOutputs: string[];
  /** create/update/delete/read durations set (customTimeouts); empty ones left out. */
  customTimeouts?: Record<string, string>;
}

export interface Node {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  id: string;
  /** Inputs as the engine keeps them: secrets still wrapped, assets by content hash, references as ids. */
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  options: Options;
  /** After the engine's inheritance from the parent's goal (source_eval.go inheritFromParent). */
  protect: boolean;
  retainOnDelete: boolean;
}

export interface Graph {
  nodes: Map<string, Node>;
  /** RegisterResourceOutputs of the stack and the components, by URN. */
  outputs: Map<string, Record<string, unknown>>;
}

/** `urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>`; the stack's own type is not in the chain. */
export { makeUrn };

/** Values compared by content: an asset by its hash, not by where the program found it. */
function comparable(v: unknown): string {
  return JSON.stringify(
    mapWire(v, (sig, o) => (sig === ASSET_SIG ? { [SIG_KEY]: ASSET_SIG, hash: o.hash } : undefined)),
  );
}

/** Top-level input names whose values differ (ignoreChanges names left out). */
export function changedInputs(before: Node, after: Node): string[] {
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  // Top-level names only: the programs ignore whole inputs; a nested path would need the engine's path rules.
  const nested = after.options.ignoreChanges.find((k) => /[.[]/.test(k));
  if (nested) throw new Error(`${after.urn}: ignoreChanges path ${nested} is not supported by the stand-in diff`);
  const ignored = new Set(after.options.ignoreChanges);
  return [...keys]
    .filter((k) => !ignored.has(k) && comparable(before.inputs[k]) !== comparable(after.inputs[k]))
    .sort();
}

/** The value at a dotted path (through arrays, element by element). */
function pick(v: unknown, path: string[]): unknown {
  if (!path.length || v === undefined || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => pick(x, path));
  return typeof v === "object" ? pick((v as Record<string, unknown>)[path[0]!], path.slice(1)) : undefined;
}

/** The forcing inputs (table, provider rules, the resource's own replaceOnChanges) whose values differ. */
export function forcingChanges(old: Node, node: Node): string[] {
  const rule = replacementFor(node.type);
  const forcing = [
    ...rule.inputs,
    ...(rule.when?.(plain(node.inputs) as Record<string, any>) ?? []),
    ...node.options.replaceOnChanges,
  ];
  const ignored = new Set(node.options.ignoreChanges);
  if (forcing.includes("*")) return changedInputs(old, node);
  return [...new Set(forcing)].filter((p) => {
    const parts = p.split(".");
    return !ignored.has(parts[0]!) && comparable(pick(old.inputs, parts)) !== comparable(pick(node.inputs, parts));
  });
}

const OPTION_KEYS = [
  "protect",
  "retainOnDelete",
  "deleteBeforeReplace",
  "ignoreChanges",
  "replaceOnChanges",
  "provider",
  "deletedWith",
] as const;

function changedOptions(old: Node, node: Node): string[] {
  const o = OPTION_KEYS.filter((k) => JSON.stringify(old.options[k]) !== JSON.stringify(node.options[k]));
  return [
    ...o,
    ...(old.parent !== node.parent ? ["parent"] : []),
    ...(old.protect !== node.protect ? ["protect (effective)"] : []),
  ];
}

export type Step = "same" | "update" | "replace" | "create" | "delete";

export interface Change {
  urn: string;
  type: string;
  step: Step;
  /** Changed top-level inputs. */
  inputs: string[];
  /** For a replace: the forcing inputs that changed. */
  forcedBy: string[];
  /** Resource options whose value changed (protect, parent, ...). */
  options: string[];
  /** The old resource's delete really happens (not retained). */
  deletes: boolean;
  protectedReplace: boolean;
}

export function diffGraphs(before: Graph, after: Graph): Change[] {
  const changes: Change[] = [];
  const matched = new Set<string>();
  for (const node of after.nodes.values()) {
    const oldUrn = [node.urn, ...node.options.aliases].find((u) => before.nodes.has(u));
    const old = oldUrn ? before.nodes.get(oldUrn)! : undefined;
    if (!old) {
      changes.push({
        urn: node.urn,
        type: node.type,
        step: "create",
        inputs: [],
        forcedBy: [],
        options: [],
        deletes: false,
        protectedReplace: false,
      });
      continue;
    }
    matched.add(old.urn);
    const inputs = node.custom ? changedInputs(old, node) : [];
    const forcedBy = node.custom && inputs.length ? forcingChanges(old, node) : [];
    const step: Step = forcedBy.length ? "replace" : inputs.length ? "update" : "same";
    changes.push({
      urn: node.urn,
      type: node.type,
      step,
      inputs,
      forcedBy,
      options: changedOptions(old, node),
      deletes: step === "replace" && !old.retainOnDelete,
      protectedReplace: step === "replace" && old.protect && node.protect,
    });
  }
  for (const old of before.nodes.values()) {
    if (!matched.has(old.urn))
      changes.push({
        urn: old.urn,
        type: old.type,
        step: "delete",
        inputs: [],
        forcedBy: [],
        options: [],
        deletes: !old.retainOnDelete,
        protectedReplace: false,
      });
  }
  return changes;
}

/** What a release may change: the release object (replaced, old one kept) and what follows from it. */
export interface ReleasePolicy {
  /** Type -> steps allowed for it; anything else changing fails check (c). */
  allowed: Record<string, { steps: Step[]; inputs?: string[] }>;
  /** Component/stack outputs (by output name) allowed to change. */
  allowedOutputs: string[];
}

export interface ReleaseVerdict {
  /** (a) protected resources that would be replaced. */
  protectedReplacements: string[];
  /** (b) resources whose delete would really happen. */
  deletions: string[];
  /** (c) changes the policy does not allow. */
  unexpected: string[];
  changes: Change[];
}

export function checkRelease(before: Graph, after: Graph, policy: ReleasePolicy): ReleaseVerdict {
  const changes = diffGraphs(before, after);
  const moved = changes.filter((c) => c.step !== "same" || c.options.length);
  const unexpected = moved
    .filter((c) => {
      const rule = policy.allowed[c.type];
      if (c.options.length || !rule || !rule.steps.includes(c.step)) return true;
      return rule.inputs !== undefined && c.inputs.some((k) => !rule.inputs!.includes(k));
    })
    .map(
      (c) =>
        `${c.step} ${c.urn}${c.inputs.length ? ` (${c.inputs.join(", ")})` : ""}${c.options.length ? ` options: ${c.options.join(", ")}` : ""}`,
    );
  for (const [urn, outs] of after.outputs) {
    const prev = before.outputs.get(urn) ?? {};
    for (const k of new Set([...Object.keys(prev), ...Object.keys(outs)]))
      if (comparable(prev[k]) !== comparable(outs[k]) && !policy.allowedOutputs.includes(k))
        unexpected.push(`output ${k} of ${urn}`);
  }
  return {
    protectedReplacements: moved.filter((c) => c.protectedReplace).map((c) => c.urn),
    deletions: moved.filter((c) => c.deletes).map((c) => `${c.step} ${c.urn}`),
    unexpected,
    changes: moved,
  };
}

/** True when a value (or anything in it) is unknown: such a graph is a preview, not a state to diff. */
export function hasUnknowns(v: unknown): boolean {
  return JSON.stringify(v).includes(UNKNOWN);
}
