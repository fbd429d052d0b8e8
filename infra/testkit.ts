// Test helpers shared by the stack tests: a stack's YAML config fed to the Pulumi mocks the way the CLI
// feeds it (strings, secrets decrypted and flagged secret), with marker values for the secrets, and temp bundles.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const root = path.resolve(__dirname, "..");

/** One reader of stack files for the mocks and the stand-in engine: test/stack-config.ts. */
export { secretMarker, stackFileConfig } from "../test/stack-config";

/** A temp bundle file with the given content; returns its path and a cleanup. */
export function tempBundle(content: string): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
  const file = path.join(dir, "server.js");
  fs.writeFileSync(file, content);
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
