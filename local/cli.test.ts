// The fleet CLI answers user mistakes with one line and a non-zero exit, never a stack trace.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const cli = (...args: string[]) =>
  spawnSync(
    process.execPath,
    [path.join(root, "node_modules/ts-node/dist/bin.js"), "--transpile-only", path.join(root, "local/cli.ts"), ...args],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    },
  );

describe("npm run local", () => {
  it("rejects bad options with one line naming the option", () => {
    const r = cli("up", "--instances", "many");
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("error: --instances many: must be a positive integer");
    const unknown = cli("up", "--hosts", "3");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^error: Unknown option '--hosts'/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });

  it("prints its usage for no command and refuses an unknown one", () => {
    expect(cli().stdout).toMatch(/usage: npm run local -- <command>/);
    const r = cli("launch");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command: launch/);
  });
});
