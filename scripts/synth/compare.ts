// Two synthesized states compared the way the engine's step generator would see them (test/support/engine/
// graph.ts): resources matched by URN or alias (the stack's name left out, so dev and prod compare too),
// changed top-level inputs with ignoreChanges left out, a replacement when an input of the provider's
// replacement table (test/support/engine/replacement.ts) or of replaceOnChanges changes. Pure.
import { Node, changedInputs, forcingChanges } from "../../test/support/engine/graph";
import { replacement } from "../../test/support/engine/replacement";
import { SynthFiles, SynthResource, stackless } from "./model";

export type Step = "create" | "update" | "replace" | "delete" | "options";

export interface ResourceChange {
  step: Step;
  type: string;
  name: string;
  urn: string;
  /** Changed top-level inputs. */
  inputs: string[];
  /** Each changed value: "path: before → after". */
  details: string[];
  /** Forcing inputs that changed (replace). */
  forcedBy: string[];
  /** Changed options, by name (protect, parent, dependsOn, ...). */
  options: string[];
  /** What a reviewer must know about this step (protected, retained, no replacement rule). */
  warnings: string[];
  /** What the provider does with such a change (the replacement table's note for the type). */
  notes: string[];
}

export interface StateDiff {
  stacks: [string, string];
  resources: ResourceChange[];
  unchanged: number;
  config: [string, string | undefined, string | undefined][];
  outputs: [string, unknown, unknown][];
  /** Paths of host files and provider code that differ, with both texts (undefined = absent). */
  files: [string, string | undefined, string | undefined][];
}

/** Files compared as files; the JSON files are compared by meaning. */
const STRUCTURED = new Set(["synth.json", "config.json", "resources.json", "outputs.json"]);

const asNode = (r: SynthResource): Node =>
  ({
    ...r,
    options: {
      ...r.options,
      ignoreChanges: r.options.ignoreChanges ?? [],
      replaceOnChanges: r.options.replaceOnChanges ?? [],
    },
  }) as unknown as Node;

const show = (v: unknown) => {
  const s = v === undefined ? "(none)" : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** "path: before → after" for each differing leaf; arrays of different length compared whole. */
export function leafChanges(a: unknown, b: unknown, path: string, out: string[] = []): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  const obj = (v: unknown) => v !== null && typeof v === "object";
  if (
    obj(a) &&
    obj(b) &&
    Array.isArray(a) === Array.isArray(b) &&
    (!Array.isArray(a) || a.length === (b as unknown[]).length)
  ) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort())
      leafChanges(ao[k], bo[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`, out);
  } else out.push(`${path}: ${show(a)} → ${show(b)}`);
  return out;
}

const short = (u: string) =>
  u.startsWith("urn:pulumi:") ? `${u.split("::")[2]!.split("$").pop()}::${u.split("::")[3]}` : u;

/** "option: + item" / "option: - item" for lists, "option: before → after" for the rest. */
function optionDetails(a: SynthResource, b: SynthResource, names: string[]): string[] {
  return names.flatMap((k) => {
    if (k === "parent") return [`parent: ${short(a.parent)} → ${short(b.parent)}`];
    const field = k.replace(" (inherited)", "") as keyof SynthResource["options"];
    const x = k.endsWith("(inherited)") ? a[field as "protect"] : a.options[field];
    const y = k.endsWith("(inherited)") ? b[field as "protect"] : b.options[field];
    if (!Array.isArray(x) && !Array.isArray(y)) return leafChanges(x, y, k);
    const xs = ((x ?? []) as string[]).map((u) => short(stackless(u)));
    const ys = ((y ?? []) as string[]).map((u) => short(stackless(u)));
    return [
      ...ys.filter((u) => !xs.includes(u)).map((u) => `${k}: + ${u}`),
      ...xs.filter((u) => !ys.includes(u)).map((u) => `${k}: - ${u}`),
    ];
  });
}

function optionChanges(a: SynthResource, b: SynthResource): string[] {
  const names = [...new Set([...Object.keys(a.options), ...Object.keys(b.options)])].sort();
  const differ = (x: unknown, y: unknown) => JSON.stringify(x) !== JSON.stringify(y);
  const urns = (xs: unknown) => (Array.isArray(xs) ? xs.map((u) => stackless(String(u))) : xs);
  const changed = names.filter((k) => {
    const x = (a.options as Record<string, unknown>)[k];
    const y = (b.options as Record<string, unknown>)[k];
    return k === "aliases" || k === "dependsOn" ? differ(urns(x), urns(y)) : differ(x, y);
  });
  if (stackless(a.parent) !== stackless(b.parent)) changed.push("parent");
  if (a.protect !== b.protect && !changed.includes("protect")) changed.push("protect (inherited)");
  if (a.retainOnDelete !== b.retainOnDelete && !changed.includes("retainOnDelete"))
    changed.push("retainOnDelete (inherited)");
  return changed;
}

function compareResource(a: SynthResource, b: SynthResource): ResourceChange {
  const rule = replacement[b.type];
  const base = { type: b.type, name: b.name, urn: b.urn, forcedBy: [] as string[], warnings: [] as string[] };
  const options = optionChanges(a, b);
  const inputs = b.custom ? changedInputs(asNode(a), asNode(b)) : [];
  const details = [...inputs.flatMap((k) => leafChanges(a.inputs[k], b.inputs[k], k)), ...optionDetails(a, b, options)];
  const notes = inputs.length && rule?.note && rule.basis !== "component" ? [rule.note] : [];
  if (a.type !== b.type) base.warnings.push(`type was ${a.type}`);
  if (!inputs.length) return { ...base, step: options.length ? "options" : "update", inputs, details, options, notes };
  if (!rule) {
    base.warnings.push("no replacement rule for this type in test/support/engine/replacement.ts: it may be replaced");
    return { ...base, step: "update", inputs, details, options, notes };
  }
  const forcedBy = forcingChanges(asNode(a), asNode(b));
  if (!forcedBy.length) return { ...base, step: "update", inputs, details, options, notes };
  if (a.protect && b.protect) base.warnings.push("protected: `pulumi up` refuses to replace it");
  notes.unshift(
    b.options.deleteBeforeReplace
      ? "deleted before its replacement is created"
      : "created before the old one is deleted",
  );
  if (a.retainOnDelete) base.warnings.push("the old one is retained (left in AWS), not deleted");
  return { ...base, step: "replace", inputs, details, options, notes, forcedBy };
}

function parse<T>(files: SynthFiles, name: string): T {
  const text = files.get(name);
  if (text === undefined) throw new Error(`${name} missing from a synthesized state`);
  return JSON.parse(text) as T;
}

export function compareStates(before: SynthFiles, after: SynthFiles): StateDiff {
  const ra = parse<SynthResource[]>(before, "resources.json");
  const rb = parse<SynthResource[]>(after, "resources.json");
  const byUrn = new Map(ra.map((r) => [stackless(r.urn), r]));
  const matched = new Set<string>();
  const resources: ResourceChange[] = [];
  let unchanged = 0;
  const empty = { inputs: [], details: [], forcedBy: [], options: [], notes: [] };
  for (const b of rb) {
    const key = [b.urn, ...(b.options.aliases ?? [])].map(stackless).find((u) => byUrn.has(u) && !matched.has(u));
    if (!key) {
      resources.push({ step: "create", type: b.type, name: b.name, urn: b.urn, ...empty, warnings: [] });
      continue;
    }
    matched.add(key);
    const c = compareResource(byUrn.get(key)!, b);
    if (c.inputs.length || c.options.length || c.warnings.length) resources.push(c);
    else unchanged++;
  }
  for (const c of resources.filter((r) => r.step === "replace")) {
    const readers = rb.filter((r) =>
      Object.values(r.inputDependencies ?? {}).some((urns) => urns.some((u) => stackless(u) === stackless(c.urn))),
    );
    if (readers.length)
      c.notes.push(
        `its new id and ARN reach ${readers.map((r) => r.name).join(", ")}: they change too in \`pulumi preview\` (the stand-in keeps ids)`,
      );
  }
  for (const [key, a] of byUrn) {
    if (matched.has(key)) continue;
    const warnings = [
      ...(a.protect ? ["protected: `pulumi up` refuses to delete it"] : []),
      ...(a.retainOnDelete ? ["retained: left in AWS, only dropped from the state"] : []),
    ];
    resources.push({ step: "delete", type: a.type, name: a.name, urn: a.urn, ...empty, warnings });
  }
  const ca = parse<Record<string, string>>(before, "config.json");
  const cb = parse<Record<string, string>>(after, "config.json");
  const oa = parse<Record<string, unknown>>(before, "outputs.json");
  const ob = parse<Record<string, unknown>>(after, "outputs.json");
  const keys = (x: object, y: object) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const paths = [...new Set([...before.keys(), ...after.keys()])].filter((p) => !STRUCTURED.has(p)).sort();
  return {
    stacks: [parse<{ stack: string }>(before, "synth.json").stack, parse<{ stack: string }>(after, "synth.json").stack],
    resources,
    unchanged,
    config: keys(ca, cb)
      .filter((k) => ca[k] !== cb[k])
      .map((k) => [k, ca[k], cb[k]]),
    outputs: keys(oa, ob)
      .filter((k) => JSON.stringify(oa[k]) !== JSON.stringify(ob[k]))
      .map((k) => [k, oa[k], ob[k]]),
    files: paths.filter((p) => before.get(p) !== after.get(p)).map((p) => [p, before.get(p), after.get(p)]),
  };
}
