// infra/README.md's stack config reference is generated from the one schema: the test fails while it is stale.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stackConfigSchema } from "../infra/config-schema";
import { begin, configReferenceTable, end, readmePath, withConfigReference } from "./config-docs";

const root = path.resolve(__dirname, "..");

describe("npm run docs:config", () => {
  it("is the script package.json names", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.scripts["docs:config"]).toBe("ts-node --transpile-only scripts/config-docs.ts");
  });

  it("infra/README.md holds the current table (run npm run docs:config after changing infra/config-schema.ts)", () => {
    const readme = fs.readFileSync(readmePath, "utf8");
    expect(readme).toContain(begin);
    expect(readme, "stale: run npm run docs:config").toBe(withConfigReference(readme));
  });

  it("lists every key once, with its type, default and range", () => {
    const table = configReferenceTable();
    for (const key of Object.keys(stackConfigSchema.shape))
      expect(
        table.split("\n").filter((l) => l.startsWith(`| \`${key}\` |`)),
        key,
      ).toHaveLength(1);
    expect(table).toContain("| `port` | integer | `3000` | 1-65535 | Port the service listens on |");
    expect(table).toContain('| `loadBalancer` | string | `"alb"` | `alb`, `haproxy` |');
    expect(table).toContain("| `env` | string | required |");
    expect(table).toContain("| `checkpointPercentages` | list of integer | `[50,100]` | each 1-100 |");
    expect(table).toContain(
      "| `datadogApiKey` | secret | required: `pulumi config set --secret datadogApiKey <value>` |",
    );
  });

  it("replaces only the marked section, and refuses a README without the markers", () => {
    const stale = `intro\n${begin}\n| old |\n${end}\noutro\n`;
    expect(withConfigReference(stale)).toBe(`intro\n${begin}\n${configReferenceTable()}\n${end}\noutro\n`);
    expect(() => withConfigReference("no markers")).toThrow(/markers are missing/);
  });

  it("runs as a process: --check passes on the checked-in README and writes nothing", () => {
    const before = fs.readFileSync(readmePath, "utf8");
    const r = spawnSync(
      path.join(root, "node_modules/.bin/ts-node"),
      ["--transpile-only", path.join(root, "scripts/config-docs.ts"), "--check"],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("infra/README.md: the config reference is up to date");
    expect(fs.readFileSync(readmePath, "utf8")).toBe(before);
  });
});
