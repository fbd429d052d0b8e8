// policy/README.md lists every rule of the pack (name, enforcement level, prod only, what it checks, the type tokens
// it reads) exactly as the policies declare them: this test fails when the table and the code drift apart.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, it } from "vitest";
import { policies, prodOnly } from "./pack";

/** The README's rules table, rendered from the policies. */
export function rulesTable(): string {
  const rows = policies.map((p) =>
    [
      `\`${p.name}\``,
      p.enforcementLevel ?? "mandatory",
      prodOnly.includes(p.name) ? "yes" : "",
      "validateStack" in p ? "stack" : "resource",
      p.description.replace(/\|/g, "\\|"),
      p.resourceTypes.map((t) => `\`${t}\``).join(" "),
    ].join(" | "),
  );
  return [
    "| rule | level | prod only | runs on | what it checks | type tokens |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r} |`),
  ].join("\n");
}

it("policy/README.md's rules table is the pack's policies", () => {
  const readme = fs.readFileSync(path.join(__dirname, "README.md"), "utf8");
  const table = /<!-- rules:start -->\n([\s\S]*?)\n<!-- rules:end -->/.exec(readme)?.[1];
  expect(table, "policy/README.md needs the table between <!-- rules:start --> and <!-- rules:end -->").toBe(
    rulesTable(),
  );
});

it("the pack has at least 15 rules, each named once", () => {
  expect(policies.length).toBeGreaterThanOrEqual(15);
  expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
});

it("every policy has its passing and violating cases in a describe block of its own in policy/pack/*.test.ts", () => {
  const dir = path.join(__dirname, "pack");
  const tests = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
    .join("\n");
  const described = new Set([...tests.matchAll(/describe\("([a-z0-9-]+)/g)].map((m) => m[1]));
  expect(policies.map((p) => p.name).filter((n) => !described.has(n))).toEqual([]);
});
