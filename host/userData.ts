// cloud-init user-data: writes every host file with its owner and mode, then runs the boot script.
// Packages are installed by the boot script, only when missing, not by cloud-init's `packages:`.
import { hostPaths } from "../contract/layout";
import { stringify } from "yaml";
import { HostFile, renderHostFiles } from "./files";
import { HostInput } from "./input";

/** EC2 refuses user-data above 16 KB (before base64). */
export const userDataLimitBytes = 16 * 1024;

export function renderUserData(i: HostInput): string {
  // List items unindented: some 700 bytes of EC2's 16 KB go to the files instead of to indentation.
  return renderCloudConfig(renderHostFiles(i), hostPaths(i.service.name).bootScript, undefined, { indentSeq: false });
}

/**
 * The files, then the boot script (one of them) run once they are written. `renderer` names the caller; `yaml`
 * layout options leave the document the same (an HAProxy node's user-data stays byte for byte as it was).
 */
export function renderCloudConfig(
  files: HostFile[],
  bootScript: string,
  renderer = "host/userData.ts",
  yaml: { indentSeq?: boolean } = {},
): string {
  const doc = {
    write_files: files.map((f) => ({ path: f.path, owner: f.owner, permissions: f.mode, content: f.content })),
    runcmd: [[bootScript]],
  };
  return `#cloud-config\n# rendered by ${renderer}; holds SSM parameter names, never secret values\n${stringify(doc, { lineWidth: 0, ...yaml })}`;
}
