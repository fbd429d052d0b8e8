// cloud-init user-data: writes every host file with its owner and mode, then runs the boot script.
// Packages are installed by the boot script, only when missing, not by cloud-init's `packages:`.
import { gzipSync } from "node:zlib";
import { hostPaths } from "../contract/layout";
import { stringify } from "yaml";
import { HostFile, renderHostFiles } from "./files";
import { HostInput } from "./input";

/** EC2 refuses user-data above 16 KB (raw, before base64): the limit applies to what EC2 is given. */
export const userDataLimitBytes = 16 * 1024;

/** The readable cloud-config: what cloud-init runs, and what reviews and tests read. */
export function renderUserData(i: HostInput): string {
  // List items unindented: some 700 bytes of EC2's 16 KB go to the files instead of to indentation.
  return renderCloudConfig(renderHostFiles(i), hostPaths(i.service.name).bootScript);
}

/**
 * The user-data as a service host ships it: gzipped, which cloud-init unpacks before reading it. The
 * service's cloud-config (two scripts, unit, logging and agent files) is above 16 KB as text and about
 * half of it gzipped. Throws when even the gzipped form is above EC2's limit.
 */
export function compressUserData(userData: string): Buffer {
  const gz = gzipSync(userData, { level: 9 });
  if (gz.length > userDataLimitBytes)
    throw new Error(
      `user-data is ${gz.length} bytes gzipped (${Buffer.byteLength(userData)} as text); EC2 takes at most ${userDataLimitBytes}`,
    );
  return gz;
}

/** compressUserData in base64: the value of a launch template's `userData` (or an instance's `userDataBase64`). */
export function encodeUserData(userData: string): string {
  return compressUserData(userData).toString("base64");
}

/** The files, then the boot script (one of them) run once they are written. `renderer` names the caller. */
export function renderCloudConfig(files: HostFile[], bootScript: string, renderer = "host/userData.ts"): string {
  const doc = {
    write_files: files.map((f) => ({ path: f.path, owner: f.owner, permissions: f.mode, content: f.content })),
    runcmd: [[bootScript]],
  };
  return `#cloud-config\n# rendered by ${renderer}; holds SSM parameter names, never secret values\n${stringify(doc, { lineWidth: 0 })}`;
}
