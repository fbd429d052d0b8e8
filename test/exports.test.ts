import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Another team's stack installs this package and imports compiled components through "exports":
// ts-node does not compile TypeScript inside node_modules, so the package must ship JavaScript.
const root = resolve(__dirname, "..");
// package export -> a function it must provide
const entries: Record<string, string> = {
  "components/alb": "Alb",
  "components/bundle": "Bundle",
  "components/fleet": "Fleet",
  "components/haproxy-tier": "HaproxyTier",
  "components/network": "Network",
  "components/observability": "Observability",
  "components/secrets": "Secrets",
  "components/dns": "ServiceDns",
  contract: "checkServiceSettings",
  host: "renderHostFiles",
};
let consumer: string;

beforeAll(() => {
  execFileSync("npm", ["run", "-s", "build:components"], { cwd: root, stdio: "pipe" });
  consumer = mkdtempSync(join(tmpdir(), "consumer-"));
  mkdirSync(join(consumer, "node_modules"));
  symlinkSync(root, join(consumer, "node_modules", "node-service-aws"));
});
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

describe("package exports", () => {
  it.each(Object.entries(entries))("a consumer stack can require node-service-aws/%s", (name, symbol) => {
    const out = execFileSync(
      process.execPath,
      ["-e", `console.log(typeof require("node-service-aws/${name}").${symbol})`],
      { cwd: consumer, encoding: "utf8" },
    );
    expect(out.trim()).toBe("function");
  });

  it("ships type declarations for every export", () => {
    for (const name of Object.keys(entries))
      expect(() => require.resolve(join(root, "dist/pkg", name, "index.d.ts"))).not.toThrow();
  });
});
