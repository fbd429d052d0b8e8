// The npm tarball of the components, as `npm run pack` makes it: compiled JavaScript with declarations and
// nothing else, every require satisfied by the tarball or by a dependency it declares, and a package.json that
// installs no dev tool, app library or second Pulumi SDK for a consumer.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const peers = ["@pulumi/aws", "@pulumi/datadog", "@pulumi/docker", "@pulumi/docker-build", "@pulumi/pulumi"];
/** Entries (export subpaths) that load each optional peer: no other entry may, so an AWS-only consumer needs neither. */
const optionalPeerEntries: Record<string, string[]> = {
  "@pulumi/datadog": [".", "./components/datadog-integration", "./components/observability"],
  "@pulumi/docker": [
    "./components/docker-dogstatsd-sink",
    "./components/docker-haproxy",
    "./components/docker-service",
  ],
  "@pulumi/docker-build": ["./components/docker-service"],
};

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports: Record<string, string | { types: string; default: string }>;
  [k: string]: unknown;
}

/** Why each file may not be in the tarball; empty when the list follows the rules. */
export function fileProblems(files: string[]): string[] {
  const allowed = /^(package\.json|README\.md|LICENSE)$|\.(js|d\.ts|js\.map)$/;
  return files.flatMap((f) => [
    ...(allowed.test(f) ? [] : [`${f}: only .js, .d.ts, .js.map, package.json, README.md and LICENSE are shipped`]),
    ...(/\.test\.|(^|\/)(test|support|fixtures)\//.test(f) ? [`${f}: a test or test support file`] : []),
    ...(/(^|\/)(app|infra|scripts|local|vm|bench|policy|examples)\//.test(f) ? [`${f}: not part of the package`] : []),
  ]);
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");
const isBuiltin = (spec: string) => spec.startsWith("node:") || builtinModules.includes(packageOf(spec));

/** Specifiers of the `require(...)` calls in a compiled file and of the imports in a declaration file. */
function specifiers(file: string, text: string): string[] {
  const pattern = file.endsWith(".d.ts")
    ? /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)["']([^"']+)["']/gm
    : /\brequire\(\s*["']([^"']+)["']\s*\)/g;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

/** The shipped file a relative specifier loads, or undefined. */
function resolveRelative(files: Set<string>, from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = from.endsWith(".d.ts")
    ? [`${base}.d.ts`, `${base}/index.d.ts`, base.replace(/\.js$/, ".d.ts")]
    : [base, `${base}.js`, `${base}.json`, `${base}/index.js`];
  return candidates.find((c) => files.has(c));
}

/** Unresolved imports of the tarball's code: relative ones to a file not shipped, bare ones to an undeclared package. */
export function importProblems(read: (f: string) => string, files: string[], manifest: Manifest): string[] {
  const shipped = new Set(files);
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const out: string[] = [];
  for (const f of files.filter((x) => x.endsWith(".js") || x.endsWith(".d.ts"))) {
    for (const spec of specifiers(f, read(f))) {
      if (spec.startsWith(".")) {
        if (!resolveRelative(shipped, f, spec)) out.push(`${f}: ${spec} is not in the tarball`);
      } else if (!isBuiltin(spec) && !declared.has(packageOf(spec)))
        out.push(`${f}: ${packageOf(spec)} is neither a dependency nor a peer dependency`);
    }
  }
  return out;
}

/** Bare packages reachable through require() from a shipped .js file. */
function reachablePackages(read: (f: string) => string, files: Set<string>, entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  for (let f = queue.shift(); f; f = queue.shift()) {
    if (seen.has(f)) continue;
    seen.add(f);
    for (const spec of specifiers(f, read(f))) {
      if (!spec.startsWith(".")) packages.add(packageOf(spec));
      else {
        const target = resolveRelative(files, f, spec);
        if (target?.endsWith(".js")) queue.push(target);
      }
    }
  }
  return packages;
}

let tmp: string;
let files: string[];
let manifest: Manifest;
const unpacked = () => path.join(tmp, "package");
const read = (f: string) => fs.readFileSync(path.join(unpacked(), f), "utf8");

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "package-test-"));
  const tarball = execFileSync(process.execPath, [path.join(root, "scripts/build-package.mjs"), "--pack", tmp], {
    cwd: root,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop()!;
  execFileSync("tar", ["xzf", tarball, "-C", tmp]);
  files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter((f) => f && !f.endsWith("/"))
    .map((f) => f.replace(/^package\//, ""))
    .sort();
  manifest = JSON.parse(read("package.json"));
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("holds compiled JavaScript, declarations and source maps of contract/, host/, components/ and the root entry only", () => {
    expect(fileProblems(files)).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    const tops = [...new Set(files.map((f) => f.split("/")[0]))].sort();
    expect(tops).toEqual([
      "README.md",
      "components",
      "contract",
      "host",
      "index.d.ts",
      "index.js",
      "index.js.map",
      "package.json",
    ]);
    // every compiled file comes with its declarations
    for (const js of files.filter((f) => f.endsWith(".js"))) expect(files, js).toContain(js.replace(/\.js$/, ".d.ts"));
  });

  it("resolves every relative require and import inside the tarball; every package it loads is declared", () => {
    expect(importProblems(read, files, manifest)).toEqual([]);
  });

  it("carries each source map's sources inline: no map points at a .ts file that is not shipped", () => {
    const maps = files.filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(40);
    for (const m of maps) {
      const map = JSON.parse(read(m)) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
      expect(
        map.sourcesContent!.every((s) => typeof s === "string" && s.length > 0),
        m,
      ).toBe(true);
    }
  });

  it("has a package.json with runtime dependencies only, the Pulumi SDKs as peers with ranges", () => {
    expect(Object.keys(manifest).filter((k) => /devDependencies|optionalDependencies|scripts|files/.test(k))).toEqual(
      [],
    );
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(peers);
    for (const p of peers) {
      // a range, not a pin: ^ for a 1.x+ SDK; ~ for 0.0.x (where ^ would pin one version)
      expect(manifest.peerDependencies![p], p).toMatch(/^[\^~]\d+\.\d+\.\d+$/);
      expect(manifest.dependencies ?? {}, p).not.toHaveProperty(p);
    }
    // What the shipped code loads besides the peers: the instance refresh's AWS client, the host renderers' YAML.
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(["@aws-sdk/client-auto-scaling", "yaml"]);
    const project = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(manifest.peerDependencies).toEqual(project.peerDependencies);
    // The project itself builds and tests against exact versions inside each peer range.
    for (const p of peers) expect(project.devDependencies[p], p).toBe(manifest.peerDependencies![p]!.slice(1));
  });

  it("needs each declared package: every dependency and peer is loaded by some shipped file", () => {
    const all = new Set(
      files.filter((f) => f.endsWith(".js")).flatMap((f) => [...reachablePackages(read, new Set(files), f)]),
    );
    for (const p of [...Object.keys(manifest.dependencies ?? {}), ...peers]) expect(all, p).toContain(p);
  });

  it("resolves every export to a shipped file, and loads each optional peer only from the entries that need it", () => {
    const shipped = new Set(files);
    const entries: [string, string][] = [];
    for (const [key, target] of Object.entries(manifest.exports)) {
      const t = typeof target === "string" ? target : target.default;
      if (typeof target !== "string") expect(shipped, key).toContain(target.types.slice(2).replace("*", "alb"));
      if (!key.includes("*")) entries.push([key, t.slice(2)]);
      else
        for (const dir of fs.readdirSync(path.join(unpacked(), "components"))) {
          const file = t.slice(2).replace("*", dir);
          if (shipped.has(file)) entries.push([key.replace("*", dir), file]);
        }
    }
    expect(entries.map(([k]) => k)).toEqual(
      expect.arrayContaining(["./components/fleet", "./components/haproxy-tier", "./host"]),
    );
    for (const [peer, expected] of Object.entries(optionalPeerEntries)) {
      const loading = entries
        .filter(([, file]) => file.endsWith(".js") && reachablePackages(read, shipped, file).has(peer))
        .map(([k]) => k)
        .sort();
      expect(loading, peer).toEqual(expected);
      expect(manifest.peerDependenciesMeta?.[peer]?.optional, peer).toBe(true);
    }
  });
});

describe("the rules catch what must not ship", () => {
  it("a test file, test support, a TypeScript source or an app file", () => {
    expect(
      fileProblems([
        "components/fleet/index.js",
        "components/fleet/index.test.js",
        "test/support/engine/launch.js",
        "host/unit.ts",
        "app/server.js",
      ]),
    ).toEqual([
      "components/fleet/index.test.js: a test or test support file",
      "test/support/engine/launch.js: a test or test support file",
      "host/unit.ts: only .js, .d.ts, .js.map, package.json, README.md and LICENSE are shipped",
      "app/server.js: not part of the package",
    ]);
  });

  it("a require of a file not shipped, of an undeclared package, and a declaration importing a missing file", () => {
    const text: Record<string, string> = {
      "a.js":
        'const b = require("./b"); const t = require("../test/support/kit"); require("pino"); require("node:fs"); require("yaml");',
      "b.js": "",
      "a.d.ts": 'import { X } from "./missing";',
    };
    expect(importProblems((f) => text[f]!, Object.keys(text), { exports: {}, dependencies: { yaml: "1" } })).toEqual([
      "a.js: ../test/support/kit is not in the tarball",
      "a.js: pino is neither a dependency nor a peer dependency",
      "a.d.ts: ./missing is not in the tarball",
    ]);
  });
});
