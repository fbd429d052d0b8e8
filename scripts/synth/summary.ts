// The review summary of two synthesized states, as Markdown for a pull-request comment: counts first,
// warnings, then resources grouped by type, config and stack outputs, and each changed host file (or
// dynamic provider's code) as a unified diff, made with the `diff` package (jsdiff). Pure.
import { ResourceChange, StateDiff, Step } from "./compare";

// jsdiff 4 (a dependency of ts-node) ships no type declarations: the one function used, typed here.
interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}
const jsdiff = require("diff") as {
  structuredPatch(
    a: string,
    b: string,
    x: string,
    y: string,
    h1: string,
    h2: string,
    o: { context: number },
  ): { hunks: Hunk[] };
};

/** A unified diff of two texts (undefined = the file is absent), with a/ and b/ headers like git's. */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  const head = `--- ${before === undefined ? "/dev/null" : `a/${path}`}\n+++ ${after === undefined ? "/dev/null" : `b/${path}`}\n`;
  // A whole file added or removed: jsdiff 4 marks an empty side as lacking its final newline, so write it here.
  const whole = before === undefined ? after : after === undefined ? before : undefined;
  if (whole !== undefined) {
    const lines = whole.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    const sign = before === undefined ? "+" : "-";
    const range = before === undefined ? `-0,0 +1,${lines.length}` : `-1,${lines.length} +0,0`;
    const tail = whole.endsWith("\n") || !whole ? "" : "\\ No newline at end of file\n";
    return `${head}@@ ${range} @@\n${lines.map((l) => `${sign}${l}\n`).join("")}${tail}`;
  }
  const { hunks } = jsdiff.structuredPatch(path, path, before ?? "", after ?? "", "", "", { context: 3 });
  return (
    head +
    hunks
      .map((h) => `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@\n${h.lines.join("\n")}\n`)
      .join("")
  );
}

/** `text` as an inline code span that survives backticks inside it. */
export function code(text: string): string {
  const ticks = "`".repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((t) => t.length)) + 1);
  return ticks.length > 1 ? `${ticks} ${text} ${ticks}` : `\`${text}\``;
}

const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A fenced block whose fence is longer than any backtick run inside. */
function fenced(lang: string, text: string): string {
  const fence = "`".repeat(Math.max(3, ...(text.match(/`+/g) ?? []).map((t) => t.length + 1)));
  return `${fence}${lang}\n${text.endsWith("\n") ? text : `${text}\n`}${fence}`;
}

const VERB: Record<Step, string> = {
  create: "add",
  update: "change",
  options: "change (options only)",
  replace: "replace",
  delete: "remove",
};
const ORDER: Step[] = ["create", "update", "options", "replace", "delete"];

function resourceLine(c: ResourceChange): string {
  const parts = [`- **${VERB[c.step]}** ${code(c.name)}`];
  if (c.inputs.length) parts.push(`inputs ${c.inputs.map(code).join(", ")}`);
  if (c.forcedBy.length) parts.push(`replaced because of ${c.forcedBy.map(code).join(", ")}`);
  if (c.options.length) parts.push(`options ${c.options.map(code).join(", ")}`);
  const lines = [parts.join("; ")];
  for (const d of c.details.slice(0, 12)) lines.push(`  - ${code(d)}`);
  if (c.details.length > 12) lines.push(`  - ... ${c.details.length - 12} more values`);
  for (const w of c.warnings) lines.push(`  - ⚠️ ${w}`);
  for (const n of c.notes) lines.push(`  - ${n}`);
  return lines.join("\n");
}

export interface SummaryOptions {
  /** Longest summary in characters (a GitHub comment holds 65536): file diffs past it are left out, counted. */
  maxChars?: number;
}

export function summarize(d: StateDiff, o: SummaryOptions = {}): string {
  const count = (s: Step[]) => d.resources.filter((c) => s.includes(c.step)).length;
  const title =
    d.stacks[0] === d.stacks[1] ? `stack ${code(d.stacks[0])}` : `${code(d.stacks[0])} → ${code(d.stacks[1])}`;
  const head = [
    `### Desired state: ${title}`,
    "",
    `**${count(["create"])} to add, ${count(["update", "options"])} to change, ${count(["replace"])} to replace, ` +
      `${count(["delete"])} to remove** (${d.unchanged} unchanged); ${d.files.length} host or provider files changed.`,
  ];
  const warned = d.resources.filter((c) => c.warnings.some((w) => /protected|no replacement rule/.test(w)));
  if (warned.length)
    head.push(
      "",
      ...warned.slice(0, 10).map((c) => `> ⚠️ ${VERB[c.step]} ${code(c.urn)}: ${c.warnings.join("; ")}`),
      ...(warned.length > 10 ? [`> ⚠️ and ${warned.length - 10} more, below`] : []),
    );
  const body: string[] = [];
  if (d.resources.length) {
    body.push("#### Resources, by type");
    const types = [...new Set(d.resources.map((c) => c.type))].sort();
    for (const t of types) {
      const of = d.resources
        .filter((c) => c.type === t)
        .sort((a, b) => ORDER.indexOf(a.step) - ORDER.indexOf(b.step) || (a.name < b.name ? -1 : 1));
      body.push("", `${code(t)}`, "", ...of.map(resourceLine));
    }
  }
  const table = (title: string, rows: [string, unknown, unknown][], fmt: (v: unknown) => string) =>
    rows.length
      ? [
          `#### ${title}`,
          "",
          "| | before | after |",
          "|---|---|---|",
          ...rows.map(([k, a, b]) => `| ${code(k)} | ${fmt(a)} | ${fmt(b)} |`),
        ]
      : [];
  const cell = (v: unknown) =>
    v === undefined ? "(none)" : code(typeof v === "string" ? v : JSON.stringify(v)).replace(/\|/g, "\\|");
  body.push(...[""].filter(() => d.config.length), ...table("Config", d.config, cell));
  body.push(...[""].filter(() => d.outputs.length), ...table("Stack outputs", d.outputs, cell));
  const footer = [
    "",
    "<sub>`npm run synth:diff`: the stack program run against the stand-in engine, no cloud. Replacements follow " +
      "test/support/engine/replacement.ts; ids and ARNs are stand-in values. `pulumi preview` has the last word.</sub>",
  ];
  const fileBlocks = d.files.map(([p, a, b]) => {
    const what = a === undefined ? "added" : b === undefined ? "removed" : "changed";
    return `<details><summary><code>${html(p)}</code> (${what})</summary>\n\n${fenced("diff", unifiedDiff(p, a, b))}\n\n</details>`;
  });
  const out = [...head, "", ...body];
  if (fileBlocks.length) out.push("", "#### Host files and provider code");
  let text = out.join("\n");
  const limit = o.maxChars ?? Infinity;
  const reserve = footer.join("\n").length + 200;
  let left = fileBlocks.length;
  for (const block of fileBlocks) {
    if (text.length + block.length + 2 + reserve > limit) break;
    text += `\n\n${block}`;
    left--;
  }
  if (left) text += `\n\n${left} file diffs left out to stay under ${limit} characters: see the synth-diff artifact.`;
  return `${text}\n${footer.join("\n")}\n`;
}
