// Starts a stack program the way `pulumi preview` / `pulumi up` does, minus the CLI: the stand-in engine
// listens on 127.0.0.1, and node runs @pulumi/pulumi's cmd/run entry with the arguments and environment
// pulumi-language-nodejs gives it (sdk/nodejs/cmd/pulumi-language-nodejs/main.go in pulumi/pulumi:
// locateModule, constructArguments, execRuntime; pkg/engine/project.go getPwdMain for --pwd and the entry).
// Left out: --sync (3.248.0 never opens its pipes) and the host's monitor proxy (it forwards unchanged).
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { StackConfig, markersOf, projectRoot, readProject, stackFileConfig } from "../stack-config";
import { Graph } from "./graph";
import { StandInEngine } from "./standin";

/**
 * CPU seconds of this process's reaped children (Linux /proc/self/stat cutime + cstime). Read at each program's
 * exit, the step is that program's CPU time: a load-independent measure when other work shares the cores.
 */
function reapedCpuSeconds(): number {
  try {
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
  } catch {
    return 100;
  }
})();
let reaped = reapedCpuSeconds();

/** Programs still running: killed if the test process exits first (an interrupted run leaves none behind). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export interface RunSpec {
  stack: string;
  dryRun: boolean;
  /** false: PULUMI_NODEJS_TRANSPILE_ONLY=true, as a user sets it to skip ts-node's type-check. */
  typecheck: boolean;
  /** Project config set on top of the stack file (`pulumi config set`). */
  overrides?: Record<string, unknown>;
  /** State left by the previous update (for a second release). */
  prior?: Graph;
  root?: string;
  /** Extra environment for the program (test probes only). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the program process. */
  ms: number;
  /** CPU time of the program process (NaN where /proc is missing). */
  cpuSeconds: number;
  engine: StandInEngine;
  argv: string[];
  env: Record<string, string>;
  config: StackConfig;
  markers: string[];
  programDir: string;
}

/** getPwdMain: `main` a directory -> run "." in it; a file -> run its base name in its directory. */
export function pwdMain(root: string, main: string | undefined): { pwd: string; entry: string } {
  if (!main) return { pwd: root, entry: "." };
  const abs = path.resolve(root, main);
  return fs.statSync(abs).isDirectory()
    ? { pwd: abs, entry: "." }
    : { pwd: path.dirname(abs), entry: path.basename(abs) };
}

/** The host's runtime options: typescript (default true), tsconfig, nodeargs. */
function runtimeOptions(runtime: ReturnType<typeof readProject>["runtime"]): {
  typescript: boolean;
  tsconfig?: string;
  nodeargs: string[];
} {
  const o = (typeof runtime === "string" ? {} : (runtime.options ?? {})) as Record<string, unknown>;
  const nodeargs = typeof o.nodeargs === "string" ? o.nodeargs : "";
  if (/["'\\]/.test(nodeargs))
    throw new Error("nodeargs with quotes: the launcher splits on spaces only (the host uses shlex)");
  return {
    typescript: o.typescript !== false,
    tsconfig: typeof o.tsconfig === "string" ? o.tsconfig : undefined,
    nodeargs: nodeargs.split(/\s+/).filter(Boolean),
  };
}

/** PULUMI_CONFIG as constructConfig writes it: keys `namespace:config:name`. */
function configJson(config: Record<string, string>): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    const i = k.indexOf(":");
    out[`${k.slice(0, i)}:config:${k.slice(i + 1)}`] = v;
  }
  return JSON.stringify(out);
}

export async function runProgram(spec: RunSpec): Promise<RunResult> {
  const root = spec.root ?? projectRoot;
  const project = readProject(root);
  const { pwd, entry } = pwdMain(root, project.main);
  const opts = runtimeOptions(project.runtime);
  const config = stackFileConfig(spec.stack, spec.overrides ?? {}, root);
  // locateModule: require.resolve("@pulumi/pulumi/cmd/run") from the program directory.
  const runPath = createRequire(path.join(pwd, "index.js")).resolve("@pulumi/pulumi/cmd/run");
  const engine = await StandInEngine.start({
    stack: spec.stack,
    project: project.name,
    dryRun: spec.dryRun,
    programDir: pwd,
    prior: spec.prior,
  });
  const argv = [
    ...opts.nodeargs,
    runPath,
    "--monitor",
    engine.address,
    "--engine",
    engine.address,
    "--organization",
    "organization",
    "--project",
    project.name,
    "--root-directory",
    root,
    "--stack",
    spec.stack,
    "--pwd",
    pwd,
    ...(spec.dryRun ? ["--dry-run"] : []),
    // The CLI's default --parallel: 4 x GOMAXPROCS.
    "--parallel",
    String(4 * os.availableParallelism()),
    entry,
  ];
  // The test process's own PULUMI_* settings must not leak in: the program sees only what the host sets.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_"))) as Record<
    string,
    string
  >;
  const env: Record<string, string> = {
    ...inherited,
    PULUMI_CONFIG: configJson(config.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(config.secretKeys),
    ...(opts.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
    ...(opts.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: opts.tsconfig } : {}),
    ...(spec.typecheck ? {} : { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }),
    ...spec.env,
  };
  const started = performance.now();
  try {
    // The CLI's working directory is where the user typed `pulumi up`: the project root.
    const child = spawn(process.execPath, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let cpuSeconds = NaN;
    child.once("exit", () => {
      const now = reapedCpuSeconds();
      cpuSeconds = now - reaped;
      reaped = now;
    });
    child.once("close", () => live.delete(child));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), spec.timeoutMs ?? 180_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    const ms = performance.now() - started;
    return {
      code,
      signal,
      stdout,
      stderr,
      ms,
      cpuSeconds,
      engine,
      argv,
      env,
      config,
      markers: markersOf(config),
      programDir: pwd,
    };
  } finally {
    await engine.stop();
  }
}

/** The run's error messages (Engine.Log severity ERROR) and stderr, for assertion messages. */
export function explain(r: RunResult): string {
  const errors = r.engine.logs.filter((l) => l.severity === 3).map((l) => l.message);
  return [`exit ${r.code}${r.signal ? ` (${r.signal})` : ""}`, ...errors, ...r.engine.errors, r.stderr.trim()]
    .filter(Boolean)
    .join("\n");
}
