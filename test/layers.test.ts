// The folder tree is the dependency graph. Each layer may import only the layers below it:
//   contract  <- app, host, components, infra, tools
//   host      <- components, infra, tools
//   components <- infra, tools
//   test/support <- tests and tools (never shipped)
// Tests may import any layer but the tools of other folders; the tools (local/, vm/, bench/, scripts/)
// are imported by no layer, only by tests and by each other (bench/ measures the local fleet).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const tools = ["local", "vm", "bench", "scripts"];
const allowed: Record<string, string[]> = {
  contract: [],
  app: ["contract"],
  host: ["contract"],
  components: ["contract", "host"],
  infra: ["contract", "host", "components"],
  policy: ["contract", "host", "components"],
  // the package's root entry (index.ts): the components and the building blocks beside them
  "index.ts": ["contract", "host", "components"],
  "test/support": ["contract", "host", "components", "infra", "app", "test/support"],
  test: ["contract", "host", "components", "infra", "app", "policy", "test/support"],
  ...Object.fromEntries(
    tools.map((t) => [t, ["contract", "host", "components", "infra", "app", "test/support", ...tools]]),
  ),
};
const isTest = (f: string) => /\.test\.ts$/.test(f) || /(^|\/)test\//.test(f);

/** The layer a repository path belongs to: its top folder, or test/support. */
export function layerOf(file: string): string {
  if (file.startsWith("test/support/")) return "test/support";
  return file.split("/")[0]!;
}

/** Wrong-way imports in `files` (repository-relative), as "file -> target (layer)". */
export function violations(files: string[], read: (f: string) => string): string[] {
  const out: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    const text = read(file);
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/gm),
      ...text.matchAll(/^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm),
      ...text.matchAll(/\b(?:require|import)\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specs) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const to = layerOf(target);
      if (to === from) continue;
      // a test may lean on test support and on anything in or below its own layer
      const ok = (allowed[from] ?? []).includes(to) || (isTest(file) && (allowed.test!.includes(to) || to === "test"));
      if (!ok) out.push(`${file} -> ${target} (${from} may not import ${to})`);
    }
  }
  return out;
}

const tracked = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "*.ts", "*.mts", "*.mjs"], {
  cwd: root,
  encoding: "utf8",
})
  .split("\n")
  .filter((f) => f && fs.existsSync(path.join(root, f)) && f !== "test/layers.test.ts");

it("no import goes the wrong way between layers", () => {
  expect(violations(tracked, (f) => fs.readFileSync(path.join(root, f), "utf8"))).toEqual([]);
});

it("catches a wrong-way import", () => {
  const files: Record<string, string> = {
    "app/config.ts": 'import { x } from "../components/alb";',
    "host/unit.ts": 'import { up } from "../local/fleet";',
    "components/alb/index.ts": 'import { setupMocks } from "../../test/support/pulumi-mocks";',
    "contract/service.ts": 'import { renderUnit } from "../host/unit";',
    "host/unit.test.ts": 'import { up } from "../local/fleet";',
    "infra/stack.ts": 'const x = require("../scripts/render");',
    "components/fleet/index.test.ts": 'import { renderUnit } from "../../host/unit";',
  };
  expect(violations(Object.keys(files), (f) => files[f]!)).toEqual([
    "app/config.ts -> components/alb (app may not import components)",
    "host/unit.ts -> local/fleet (host may not import local)",
    "components/alb/index.ts -> test/support/pulumi-mocks (components may not import test/support)",
    "contract/service.ts -> host/unit (contract may not import host)",
    "host/unit.test.ts -> local/fleet (host may not import local)",
    "infra/stack.ts -> scripts/render (infra may not import scripts)",
  ]);
});

it("keeps every source file at 350 lines or fewer (test files, which are tables of cases, excepted)", () => {
  const long = tracked.filter(
    (f) => !f.endsWith(".test.ts") && fs.readFileSync(path.join(root, f), "utf8").split("\n").length > 351,
  );
  expect(long).toEqual([]);
});
