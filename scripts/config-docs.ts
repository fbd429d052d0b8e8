// `npm run docs:config`: writes the stack config reference, every key of the one config schema
// (infra/config-schema.ts) with its type, default, accepted range and description, between the two
// markers in infra/README.md (`-- --check` only checks). scripts/config-docs.test.ts fails while the
// README's table is stale.
import * as fs from "node:fs";
import * as path from "node:path";
import { secretKeys, stackConfigSchema } from "../infra/config-schema";

export const readmePath = path.resolve(__dirname, "..", "infra", "README.md");
export const begin =
  "<!-- config-reference:begin: written by npm run docs:config from infra/config-schema.ts; do not edit by hand -->";
export const end = "<!-- config-reference:end -->";

interface KeySchema {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  minItems?: number;
  items?: KeySchema;
}

const cell = (s: string) => s.replace(/\|/g, "\\|");
const code = (v: unknown) => `\`${JSON.stringify(v)}\``;

function range(s: KeySchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(", ");
  if (s.minimum !== undefined && s.maximum !== undefined) return `${s.minimum}-${s.maximum}`;
  return "";
}

function row(key: string, s: KeySchema, description: string): string {
  if ((secretKeys as readonly string[]).includes(key))
    return `| \`${key}\` | secret | required: \`pulumi config set --secret ${key} <value>\` | | ${cell(description)} |`;
  const type = s.type === "array" ? `list of ${s.items?.type ?? "values"}` : (s.type ?? "");
  const itemRange = s.items ? range(s.items) : "";
  const takes = [range(s), itemRange && `each ${itemRange}`, s.minItems ? `at least ${s.minItems}` : ""]
    .filter(Boolean)
    .join("; ");
  const dflt = s.default === undefined ? "required" : code(s.default);
  return `| \`${key}\` | ${type} | ${dflt} | ${takes} | ${cell(description)} |`;
}

/** The table, one row per key in the schema's order. */
export function configReferenceTable(): string {
  const rows = Object.entries(stackConfigSchema.shape).map(([key, schema]) =>
    row(key, schema.toJSONSchema({ io: "input" }) as KeySchema, schema.description ?? ""),
  );
  return ["| key | type | default | takes | description |", "|---|---|---|---|---|", ...rows].join("\n");
}

/** The README with the section between the markers replaced by the current table. */
export function withConfigReference(readme: string): string {
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from)
    throw new Error(
      `infra/README.md: the markers are missing; put these two lines where the table goes:\n${begin}\n${end}`,
    );
  return `${readme.slice(0, from + begin.length)}\n${configReferenceTable()}\n${readme.slice(to)}`;
}

/** `--check` writes nothing and exits 1 when the README's table is stale (for CI). */
if (require.main === module) {
  const check = process.argv.includes("--check");
  const before = fs.readFileSync(readmePath, "utf8");
  const after = withConfigReference(before);
  if (after === before) console.log("infra/README.md: the config reference is up to date");
  else if (check) {
    console.error("infra/README.md: the config reference is stale: run npm run docs:config");
    process.exit(1);
  } else {
    fs.writeFileSync(readmePath, after);
    console.log("infra/README.md: wrote the config reference");
  }
}
