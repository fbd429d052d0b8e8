// Test helpers shared by the stack tests: a stack's YAML config fed to the Pulumi mocks the way the CLI
// feeds it (strings, secrets decrypted and flagged secret), with marker values for the secrets.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { projectName, secretKeys } from "./config";

export const root = path.resolve(__dirname, "..");

/** The clear-text value a secret has in a test; it must never appear in clear text in any resource input. */
export function secretMarker(key: string): string {
  return `SECRET-MARKER-${key}-7f3c9a`;
}

export function stackFileConfig(stack: string, overrides: Record<string, unknown> = {}): { config: Record<string, string>; secretKeys: string[] } {
  const doc = parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const merged: Record<string, unknown> = { ...doc.config };
  for (const [k, v] of Object.entries(overrides)) merged[`${projectName}:${k}`] = v;
  const config: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined) continue;
    const key = k.slice(k.indexOf(":") + 1);
    if (k.startsWith(`${projectName}:`) && (secretKeys as readonly string[]).includes(key)) {
      config[k] = key === "papertrailDestination" ? `${secretMarker(key)}.example.com:12345` : secretMarker(key);
      secrets.push(k);
    } else config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { config, secretKeys: secrets };
}

/** A temp bundle file with the given content; returns its path and a cleanup. */
export function tempBundle(content: string): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
  const file = path.join(dir, "server.js");
  fs.writeFileSync(file, content);
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
