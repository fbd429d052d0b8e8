// The real programs the tests start: found on PATH or in sbin, or a clear error with the install command.
// test/support/packages.json is the one command -> Debian package map (scripts/test-tools.mjs installs from it).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import packages from "./packages.json";

const sbin = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/** The Debian package that provides `command`. */
export function packageOf(command: string): string {
  return (packages.commands as Record<string, string>)[command] ?? command;
}

/** Absolute path of a tool; throws with the install command when it is missing. */
export function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? "").split(":"), ...sbin]) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found: apt-get install -y ${packageOf(name)}`);
}

/** The apt-get command that installs whichever of `commands` are missing, or undefined when all are there. */
export function missingTools(commands: string[]): string | undefined {
  const missing = commands.filter((c) => {
    try {
      tool(c);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `apt-get install -y ${[...new Set(missing.map(packageOf))].join(" ")}` : undefined;
}

export function gtlsDriverPresent(): void {
  const driver = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so";
  if (!fs.existsSync(driver))
    throw new Error(
      `rsyslog TLS driver missing: apt-get install -y ${(packages.files as Record<string, string>)[driver]}`,
    );
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(name: string, args: string[], opts: { cwd?: string; input?: string } = {}): RunResult {
  const r = spawnSync(tool(name), args, { encoding: "utf8", cwd: opts.cwd, input: opts.input, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `host-${prefix}-`));
}
