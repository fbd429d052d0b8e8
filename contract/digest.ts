// A release is named and checked by the sha256 of its bundle: the stack's object key, the host's
// `sha256sum` check before install, the deploy step's --sha256 and the local fleet's release id.
// The only contract file that reads the disk (node:crypto, node:fs: every consumer runs on Node).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Lowercase hex sha256 of a file's bytes, as `sha256sum` prints it. Throws the read error (ENOENT, ...) as is. */
export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}
