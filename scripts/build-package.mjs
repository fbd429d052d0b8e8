// Builds the component package in dist/pkg: the JavaScript and declarations tsc makes from index.ts,
// contract/, host/ and components/ (tsconfig.components.json), the README, and a package.json written from
// the project's own with what a consumer installs: the runtime dependencies of that code and the Pulumi SDKs
// as peers. Not the project's dev tools, the app's libraries or the pinned Node binary (optionalDependencies:
// a 200 MB download and a `node` bin in every consumer's node_modules/.bin).
// `--pack <dir>` then packs it there and prints the tarball's path.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const outDir = path.join(root, "dist/pkg");
/** Project package.json fields copied unchanged into the package's. */
const kept = ["name", "version", "description", "private", "license", "engines", "dependencies", "peerDependencies"];

/** The package.json of the package: paths from dist/pkg, no scripts, no dev or optional dependencies. */
export function packageManifest(project) {
  const manifest = Object.fromEntries(kept.filter((k) => k in project).map((k) => [k, project[k]]));
  if (project.peerDependenciesMeta) manifest.peerDependenciesMeta = project.peerDependenciesMeta;
  const strip = (p) => (p.startsWith("./dist/pkg/") ? `./${p.slice("./dist/pkg/".length)}` : p);
  const rewrite = (v) =>
    typeof v === "string" ? strip(v) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
  manifest.exports = rewrite(project.exports);
  // For consumers whose tsconfig ignores "exports" (moduleResolution node10, Pulumi's templates): the root entry.
  manifest.main = "./index.js";
  manifest.types = "./index.d.ts";
  return manifest;
}

export function buildPackage() {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.components.json")], {
    cwd: root,
    stdio: "inherit",
  });
  const project = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  writeFileSync(path.join(outDir, "package.json"), `${JSON.stringify(packageManifest(project), null, 2)}\n`);
  copyFileSync(path.join(root, "README.md"), path.join(outDir, "README.md"));
  return outDir;
}

/** Packs dist/pkg into `dest`; returns the tarball's absolute path. */
export function packPackage(dest) {
  const out = execFileSync("npm", ["pack", outDir, "--pack-destination", dest, "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
  });
  return path.join(dest, JSON.parse(out)[0].filename);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildPackage();
  const i = process.argv.indexOf("--pack");
  if (i >= 0) console.log(packPackage(path.resolve(process.argv[i + 1] ?? ".")));
  else console.log(`built ${path.relative(process.cwd(), outDir)}`);
}
