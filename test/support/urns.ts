// Records the URN of every resource the stack program registers under the Pulumi mocks, with the URNs its
// aliases stand for, so a refactor can prove that users' existing stacks keep every resource (a URN that
// disappears without an alias is a delete and a create on their next `pulumi up`).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runProgram, setupMocks } from "./pulumi-mocks";

export interface UrnRecord {
  urn: string;
  /** URNs this resource also answers to (its aliases, resolved the way the engine resolves them). */
  aliases: string[];
}

/** The qualified type chain of a URN: `a$b$c` for `urn:pulumi:s::p::a$b$c::name`. */
function qualifiedType(urn: string): string {
  return urn.split("::")[2]!;
}

const project = "node-service-aws";

/** A URN of the mock monitor's form in the engine's form (only a stack's direct children differ). */
export function engineUrn(urn: string): string {
  return urn.replace("::pulumi:pulumi:Stack$", "::");
}

const urnOf = (stack: string, project: string, parent: string, type: string, name: string) =>
  `urn:pulumi:${stack}::${project}::${parent && !qualifiedType(parent).startsWith("pulumi:pulumi:Stack") ? `${qualifiedType(parent)}$` : ""}${type}::${name}`;
const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const typeOf = (urn: string) => qualifiedType(urn).split("$").pop()!;

/**
 * The engine's rules (pkg/resource/deploy/step_generator.go, collapseAliasToUrn and generateAliases):
 * an alias spec's unset fields default to the resource's own; a child also answers to its URN under
 * each of its parent's aliases, with the parent's name prefix of its own name replaced by the alias's.
 */
function aliasesOf(req: any, parent: string, stack: string, project: string, parentAliases: string[]): string[] {
  const type = req.getType();
  const name = req.getName();
  const own: string[] = req.getAliasesList().map((a: any) => {
    if (!a.hasSpec()) return a.getUrn();
    const spec = a.getSpec();
    const aliasParent = spec.getNoparent() ? "" : engineUrn(spec.getParenturn()) || parent;
    return urnOf(spec.getStack() || stack, spec.getProject() || project, aliasParent, spec.getType() || type, spec.getName() || name);
  });
  const inherited = parentAliases.flatMap((parentAlias) =>
    [{ t: type, n: name }, ...own.map((u) => ({ t: typeOf(u), n: nameOf(u) }))].map(({ t, n }) => {
      const parentName = nameOf(parent);
      const aliasName = n.startsWith(parentName) ? nameOf(parentAlias) + n.slice(parentName.length) : n;
      return urnOf(stack, project, parentAlias, t, aliasName);
    }));
  return [...new Set([...own, ...inherited])];
}

export async function recordUrns(program: () => Record<string, unknown>, opts: { config: Record<string, string>; secretKeys: string[]; stack: string }): Promise<UrnRecord[]> {
  await setupMocks(opts);
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  // The mock monitor builds URNs from the last parent type only and keeps the stack's type; the URN is
  // computed here the engine's way (the parent's whole type chain, the root stack's type left out).
  const records = new Map<string, UrnRecord>();
  monitor.registerResource = (req: any, cb: any) =>
    register(req, (err: unknown, res: any) => {
      if (!err) {
        const parent = records.get(req.getParent());
        const urn = urnOf(opts.stack, project, parent?.urn ?? "", req.getType(), req.getName());
        records.set(res.getUrn(), { urn, aliases: aliasesOf(req, parent?.urn ?? "", opts.stack, project, parent?.aliases ?? []) });
      }
      cb(err, res);
    });
  await runProgram(program);
  return [...records.values()].sort((a, b) => a.urn.localeCompare(b.urn));
}

/** A throw-away bundle file: its content does not change any URN. */
export function scratchBundle(): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "urns-"));
  const file = path.join(dir, "server.js");
  fs.writeFileSync(file, "console.log('urns')\n");
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
