// cloud-init user-data: writes every host file with its owner and mode, then runs the boot script.
// Packages are installed by the boot script, only when missing, not by cloud-init's `packages:`.
import { stringify } from "yaml";
import { renderHostFiles } from "./files";
import { HostInput, hostPaths } from "./input";

/** EC2 refuses user-data above 16 KB (before base64). */
export const userDataLimitBytes = 16 * 1024;

export function renderUserData(i: HostInput): string {
  const doc = {
    write_files: renderHostFiles(i).map((f) => ({ path: f.path, owner: f.owner, permissions: f.mode, content: f.content })),
    runcmd: [[hostPaths(i.service.name).bootScript]],
  };
  return `#cloud-config\n# rendered by components/host/renderUserData.ts; holds SSM parameter names, never secret values\n${stringify(doc, { lineWidth: 0 })}`;
}
