// `npm run synth:diff -- <dirA> <dirB> [--max-chars N] [--out summary.md]`: the Markdown review summary of
// two synthesized states (npm run synth): resources added, changed (which inputs), replaced, removed, by
// type; config and stack outputs; each changed host file with its unified diff.
import * as fs from "node:fs";
import * as path from "node:path";
import { compareStates } from "./synth/compare";
import { readSynth } from "./synth/files";
import { summarize } from "./synth/summary";

const usage = "usage: npm run synth:diff -- <dirA> <dirB> [--max-chars N] [--out summary.md]";

export function main(argv: string[], cwd = process.cwd()): string {
  const flags = new Map<string, string>();
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--max-chars" || a === "--out") {
      const v = argv[++i];
      if (!v) throw new Error(`${a}: missing value; ${usage}`);
      flags.set(a, v);
    } else if (a.startsWith("--")) throw new Error(`unknown option ${a}; ${usage}`);
    else dirs.push(a);
  }
  if (dirs.length !== 2) throw new Error(`two synthesized folders expected, got ${dirs.length}; ${usage}`);
  const maxChars = flags.has("--max-chars") ? Number(flags.get("--max-chars")) : undefined;
  if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars >= 1000))
    throw new Error(`--max-chars ${flags.get("--max-chars")}: an integer of at least 1000 expected`);
  const [a, b] = dirs.map((d) => readSynth(path.resolve(cwd, d))) as [Map<string, string>, Map<string, string>];
  const text = summarize(compareStates(a, b), { maxChars });
  if (flags.has("--out")) fs.writeFileSync(path.resolve(cwd, flags.get("--out")!), text);
  return text;
}

if (require.main === module) {
  try {
    process.stdout.write(main(process.argv.slice(2)));
  } catch (e) {
    console.error(`synth:diff failed: ${(e as Error).message}`);
    process.exit(1);
  }
}
