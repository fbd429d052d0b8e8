// A synthesized state on disk: written whole (a previous synthesis in the folder is replaced, any other
// content refused), read back as the same map of relative path to text.
import * as fs from "node:fs";
import * as path from "node:path";
import { SynthFiles } from "./model";

const MARK = "synth.json";

export function writeSynth(files: SynthFiles, out: string): void {
  if (fs.existsSync(out)) {
    const entries = fs.readdirSync(out);
    if (entries.length && !entries.includes(MARK))
      throw new Error(`--out ${out}: the folder has other content; give an empty or new folder`);
    fs.rmSync(out, { recursive: true, force: true });
  }
  for (const [rel, text] of files) {
    const target = path.join(out, ...rel.split("/"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text, { mode: 0o644 });
  }
}

export function readSynth(dir: string): SynthFiles {
  if (!fs.existsSync(path.join(dir, MARK)))
    throw new Error(
      `${dir}: not a synthesized state (no ${MARK}); make one with npm run synth -- --stack <name> --out ${dir}`,
    );
  const files: SynthFiles = new Map();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files.set(r, fs.readFileSync(path.join(dir, r), "utf8"));
    }
  };
  walk("");
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}
