// Processes the tests and the local fleet start: recognising our own by PID, and the supervisor bundle.
import fs from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";

/** True when `pid` is alive and its command line mentions `marker` (so a reused PID is never ours). */
export function isOurs(pid: number, marker: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}

/** Bundles supervisor.ts (the systemd stand-in) into one file that plain `node` runs (no ts-node per host). */
export function buildSupervisor(outfile: string): string {
  buildSync({
    entryPoints: [path.join(__dirname, "supervisor.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
  });
  return outfile;
}
