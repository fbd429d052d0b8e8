// Test helpers: run a real tool (failing with the apt-get command when it is missing), temp dirs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostInput, withHostDefaults } from "./input";

const packages: Record<string, string> = {
  "systemd-analyze": "systemd",
  rsyslogd: "rsyslog",
  logrotate: "logrotate",
  "cloud-init": "cloud-init",
  shellcheck: "shellcheck",
  certtool: "gnutls-bin",
  gzip: "gzip",
};
const sbin = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/** Absolute path of a tool; throws with the install command when it is missing. */
export function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? "").split(":"), ...sbin]) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found: apt-get install -y ${packages[name] ?? name}`);
}

export function gtlsDriverPresent(): void {
  if (!fs.existsSync("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"))
    throw new Error("rsyslog TLS driver missing: apt-get install -y rsyslog-gnutls");
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

export const sampleInput = (): HostInput =>
  withHostDefaults({
    env: "prod",
    version: "2026.11.25-1",
    bundle: { url: "s3://sample-artifacts/sample-api/2026.11.25-1/server.js", sha256: "ab".repeat(32) },
  });
