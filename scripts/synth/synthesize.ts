// The desired state of a stack: the real program (infra/, through @pulumi/pulumi's cmd/run) run against the
// stand-in engine of test/support/engine with the stack's config, no credentials and no cloud, as `pulumi up`
// would run it; then every registered resource written as text a reviewer can read and two runs can diff.
// The run is an update, not a preview, so values a provider computes (ids, ARNs, bucket names) are the
// stand-in's fixed answers (test/support/provider-answers.ts) instead of unknowns: the user-data, which
// names the release's bucket, is then complete.
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File } from "../../contract/digest";
import { Node } from "../../test/support/engine/graph";
import { RunResult, explain, runProgram } from "../../test/support/engine/launch";
import { projectRoot } from "../../test/support/stack-config";
import { ARCHIVE_SIG, ASSET_SIG, SECRET_SIG, UNKNOWN, mapWire } from "../../test/support/wire";
import { decodeUserData, hostFiles, sha256, userDataInputs } from "./hosts";
import { ResourceOptions, SECRET, SynthFiles, SynthMeta, SynthResource, UNKNOWN_VALUE, canonicalJson } from "./model";

export interface SynthSpec {
  stack: string;
  /** Config set on top of the stack file, as with `pulumi config set` (tests: a changed config). */
  overrides?: Record<string, unknown>;
  root?: string;
}

const NOTE =
  "Desired state from the stack program run against a stand-in engine (no cloud, no credentials): ids, ARNs, " +
  "DNS names and other provider-computed values are the stand-in's fixed answers, not AWS's; secrets are masked.";

/** Runs the program and returns the files of its desired state. Throws when the run fails. */
export async function synthesize(spec: SynthSpec): Promise<SynthFiles> {
  const run = await runProgram({
    stack: spec.stack,
    dryRun: false,
    typecheck: false,
    overrides: spec.overrides,
    root: spec.root,
  });
  const problems = [
    ...run.engine.invokes.filter((i) => !i.answered).map((i) => `unanswered lookup ${i.tok}`),
    ...run.engine.unimplemented.map((m) => `unimplemented engine call ${m}`),
  ];
  if (run.code !== 0 || problems.length)
    throw new Error(`the ${spec.stack} stack program failed:\n${[explain(run), ...problems].join("\n")}`);
  return filesOf(run, spec.root ?? projectRoot);
}

/** The files of a finished run (exported for tests that reuse a run). */
export function filesOf(run: RunResult, root: string): SynthFiles {
  const files: SynthFiles = new Map();
  const clean = (v: unknown) => readable(v, root);
  const nodes = [...run.engine.graph.nodes.values()].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  const resources = nodes.map((n) => resourceOf(n, clean));
  extractUserData(resources, files);
  extractDynamicProviders(resources, files);
  const flag = (name: string) => run.argv[run.argv.indexOf(name) + 1]!;
  const meta: SynthMeta = { project: flag("--project"), stack: flag("--stack"), note: NOTE };
  const secret = new Set(run.config.secretKeys);
  const config = Object.fromEntries(Object.entries(run.config.config).map(([k, v]) => [k, secret.has(k) ? SECRET : v]));
  files.set("synth.json", canonicalJson(meta));
  files.set("config.json", canonicalJson(config));
  files.set("resources.json", canonicalJson(resources));
  files.set("outputs.json", canonicalJson(clean(run.engine.graph.outputs.get(run.engine.rootUrn) ?? {})));
  assertNoSecret(files, run.markers);
  assertNoLocalPath(files, root);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Wire values as review text: secrets masked, assets by project-relative path and hash, unknowns named. */
function readable(v: unknown, root: string): unknown {
  const rel = (p: unknown) =>
    typeof p === "string" && path.isAbsolute(p) ? path.relative(root, p).split(path.sep).join("/") : p;
  const mapped = mapWire(v, (sig, o) => {
    if (sig === SECRET_SIG) return SECRET;
    if (sig === ASSET_SIG || sig === ARCHIVE_SIG) {
      // By content, as the engine diffs an asset: the same bytes from another path (dist/runtime or
      // node_modules, another checkout) are no change.
      const kind = sig === ASSET_SIG ? "asset" : "archive";
      const file = typeof o.path === "string" && fs.existsSync(o.path) && fs.statSync(o.path).isFile() ? o.path : "";
      const from = file
        ? "file"
        : o.uri !== undefined
          ? rel(o.uri)
          : o.text !== undefined
            ? "(text)"
            : rel(o.path ?? "");
      return { [kind]: from, sha256: o.hash || (file ? sha256File(file) : "") };
    }
    return undefined;
  });
  return JSON.parse(JSON.stringify(mapped ?? null), (_k, x) => (x === UNKNOWN ? UNKNOWN_VALUE : x));
}

function resourceOf(n: Node, clean: (v: unknown) => unknown): SynthResource {
  const o = n.options;
  const carried = new Set(Object.values(o.propertyDependencies).flat());
  const list = (xs: string[] | undefined) => (xs && xs.length ? [...xs] : undefined);
  const options: ResourceOptions = {
    protect: o.protect,
    retainOnDelete: o.retainOnDelete,
    deleteBeforeReplace: o.deleteBeforeReplace,
    ignoreChanges: list(o.ignoreChanges),
    replaceOnChanges: list(o.replaceOnChanges),
    aliases: list([...o.aliases].sort()),
    dependsOn: list(o.dependencies.filter((d) => !carried.has(d)).sort()),
    customTimeouts: o.customTimeouts,
    additionalSecretOutputs: list(o.additionalSecretOutputs),
    provider: o.provider || undefined,
    deletedWith: o.deletedWith || undefined,
    version: o.version || undefined,
  };
  const deps = Object.entries(o.propertyDependencies)
    .filter(([, urns]) => urns.length)
    .map(([k, urns]) => [k, [...new Set(urns)].sort()]);
  return {
    ...(deps.length ? { inputDependencies: Object.fromEntries(deps) } : {}),
    urn: n.urn,
    type: n.type,
    name: n.name,
    parent: n.parent,
    custom: n.custom,
    protect: n.protect,
    retainOnDelete: n.retainOnDelete,
    options: JSON.parse(JSON.stringify(options)) as ResourceOptions,
    inputs: clean(n.inputs) as Record<string, unknown>,
  };
}

/** Each distinct user-data once, under hosts/<first resource's name>/; the inputs point at it. */
function extractUserData(resources: SynthResource[], files: SynthFiles): void {
  const groups = new Map<string, { folder: string; usedBy: string[]; refs: [SynthResource, string][] }>();
  for (const r of resources)
    for (const [key, encoding] of Object.entries(userDataInputs(r.type))) {
      const value = r.inputs[key];
      if (typeof value !== "string" || value === SECRET || value === UNKNOWN_VALUE) continue;
      const text = decodeUserData(value, encoding);
      const g = groups.get(text) ?? { folder: `hosts/${r.name}`, usedBy: [], refs: [] };
      groups.set(text, g);
      g.usedBy.push(r.urn);
      g.refs.push([r, key]);
    }
  for (const [text, g] of groups) {
    for (const [p, content] of hostFiles(text, g.folder, g.usedBy)) files.set(p, content);
    for (const [r, key] of g.refs) r.inputs[key] = `[user-data: ${g.folder}/, sha256 ${sha256(text)}]`;
  }
}

/** A dynamic resource's serialized provider code, once per distinct code, under dynamic-providers/. */
function extractDynamicProviders(resources: SynthResource[], files: SynthFiles): void {
  const seen = new Map<string, string>();
  for (const r of resources) {
    const code = r.inputs.__provider;
    if (!r.type.startsWith("pulumi-nodejs:dynamic:") || typeof code !== "string") continue;
    const file = seen.get(code) ?? `dynamic-providers/${r.name}.js`;
    seen.set(code, file);
    files.set(file, code.endsWith("\n") ? code : `${code}\n`);
    r.inputs.__provider = `[dynamic provider code: ${file}, sha256 ${sha256(code)}]`;
  }
}

/** A secret's value must never reach the synthesized files; a leak stops the synthesis. */
function assertNoSecret(files: SynthFiles, markers: string[]): void {
  const leaks = [...files].flatMap(([p, text]) => markers.filter((m) => text.includes(m)).map((m) => `${p}: ${m}`));
  if (leaks.length)
    throw new Error(`a secret config value is in clear text in the desired state:\n  ${leaks.join("\n  ")}`);
}

/** The checkout's own path would make two checkouts' states differ (CI synthesizes base and head apart). */
function assertNoLocalPath(files: SynthFiles, root: string): void {
  const found = [...files].filter(([, text]) => text.includes(root)).map(([p]) => p);
  if (found.length) throw new Error(`the project's local path ${root} is in: ${found.join(", ")}`);
}
