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

/** The engine's rule: an alias spec's unset fields default to the resource's own. */
function aliasUrn(spec: any, self: { type: string; name: string; parent: string; stack: string; project: string }): string {
  const name = spec.getName() || self.name;
  const type = spec.getType() || self.type;
  const stack = spec.getStack() || self.stack;
  const project = spec.getProject() || self.project;
  const parent = spec.getNoparent() ? "" : spec.getParenturn() || self.parent;
  const chain = parent && !qualifiedType(parent).startsWith("pulumi:pulumi:Stack") ? `${qualifiedType(parent)}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

export async function recordUrns(program: () => Record<string, unknown>, opts: { config: Record<string, string>; secretKeys: string[]; stack: string }): Promise<UrnRecord[]> {
  await setupMocks(opts);
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  const records: UrnRecord[] = [];
  monitor.registerResource = (req: any, cb: any) =>
    register(req, (err: unknown, res: any) => {
      if (!err) {
        const self = { type: req.getType(), name: req.getName(), parent: req.getParent(), stack: opts.stack, project: "node-service-aws" };
        const aliases = req.getAliasesList().map((a: any) => (a.hasSpec() ? aliasUrn(a.getSpec(), self) : a.getUrn()));
        records.push({ urn: res.getUrn(), aliases });
      }
      cb(err, res);
    });
  await runProgram(program);
  return records.sort((a, b) => a.urn.localeCompare(b.urn));
}

/** A throw-away bundle file: its content does not change any URN. */
export function scratchBundle(): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "urns-"));
  const file = path.join(dir, "server.js");
  fs.writeFileSync(file, "console.log('urns')\n");
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
