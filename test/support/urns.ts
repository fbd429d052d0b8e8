// Records the URN of every resource the stack program registers under the Pulumi mocks, with the URNs its
// aliases stand for, so a refactor can prove that users' existing stacks keep every resource (a URN that
// disappears without an alias is a delete and a create on their next `pulumi up`).
import { aliasesOf, makeUrn } from "./engine/aliases";
import { runProgram, setupMocks } from "./pulumi-mocks";

export interface UrnRecord {
  urn: string;
  /** URNs this resource also answers to (its aliases, resolved the way the engine resolves them). */
  aliases: string[];
}

/** A URN of the mock monitor's form in the engine's form (only a stack's direct children differ). */
export function engineUrn(urn: string): string {
  return urn.replace("::pulumi:pulumi:Stack$", "::");
}

const project = "node-service-aws";

export async function recordUrns(
  program: () => Record<string, unknown>,
  opts: { config: Record<string, string>; secretKeys: string[]; stack: string },
): Promise<UrnRecord[]> {
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
        const urn = makeUrn(opts.stack, project, req.getType(), req.getName(), parent?.urn ?? "");
        records.set(res.getUrn(), {
          urn,
          aliases: aliasesOf(req, parent?.urn ?? "", parent?.aliases ?? [], opts.stack, project),
        });
      }
      cb(err, res);
    });
  await runProgram(program);
  return [...records.values()].sort((a, b) => a.urn.localeCompare(b.urn));
}
