// `npm run synth -- --stack <name> --out <dir>`: the desired state of a stack (every resource with its options
// and inputs, every host file at its host path) from Pulumi.<name>.yaml and the real program, with no cloud
// access and no secret values. Layout and what is a stand-in value: scripts/synth/model.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { writeSynth } from "./synth/files";
import { synthesize } from "./synth/synthesize";

const usage = "usage: npm run synth -- --stack <name> --out <dir> [--root <project dir>]";

function arg(argv: string[], name: string, optional = false): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0 && optional) return undefined;
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (!v || v.startsWith("--")) throw new Error(`${name}: missing; ${usage}`);
  return v;
}

export async function main(argv: string[], cwd = process.cwd()): Promise<string> {
  const stack = arg(argv, "--stack")!;
  const out = path.resolve(cwd, arg(argv, "--out")!);
  // Another checkout (CI: the pull request's base), synthesized by this checkout's tooling: one output format.
  const root = path.resolve(cwd, arg(argv, "--root", true) ?? ".");
  if (!/^[\w.-]+$/.test(stack) || !fs.existsSync(path.join(root, `Pulumi.${stack}.yaml`)))
    throw new Error(`--stack ${stack}: no Pulumi.${stack}.yaml in ${root}`);
  const files = await synthesize({ stack, root });
  writeSynth(files, out);
  const hosts = [...files.keys()].filter((f) => f.startsWith("hosts/")).length;
  const resources = (JSON.parse(files.get("resources.json")!) as unknown[]).length;
  return `synthesized ${stack}: ${resources} resources, ${hosts} host files -> ${out}`;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (line) => console.log(line),
    (e) => {
      console.error(`synth failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
