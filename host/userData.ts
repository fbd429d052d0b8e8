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
  const p = hostPaths(i.service.name);
  return renderCloudConfig(renderHostFiles(i), p.bootScript, {
    finalMessage: finalMessage(`${i.service.name} release ${i.version}`, p.bootScript),
  });
}

/**
 * cloud-init's last line in the console and its log: what booted and how long the boot took ($UPTIME is
 * cloud-init's, seconds since the kernel started). cloud-init prints it whether or not the boot script
 * succeeded; the script's own "boot ok" or "boot failed" line in the journal says which.
 */
export function finalMessage(what: string, bootScript: string): string {
  const tag = bootScript.slice(bootScript.lastIndexOf("/") + 1);
  return `${what}: cloud-init finished $UPTIME s after boot (boot script result: journalctl -t ${tag})`;
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
export function renderCloudConfig(
  files: HostFile[],
  bootScript: string,
  o: { renderer?: string; finalMessage: string },
): string {
  const renderer = o.renderer ?? "host/userData.ts";
  const doc = {
    write_files: files.map((f) => ({ path: f.path, owner: f.owner, permissions: f.mode, content: f.content })),
    runcmd: [[bootScript]],
    final_message: o.finalMessage,
  };
  return `#cloud-config\n# rendered by ${renderer}; holds SSM parameter names, never secret values\n${stringify(doc, { lineWidth: 0 })}`;
}
