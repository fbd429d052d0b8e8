// A stack's config as the Pulumi CLI hands it to the program: Pulumi.yaml's `default:` values overlaid with
// Pulumi.<stack>.yaml, every value a string (non-strings as JSON text), keys `namespace:name`, and each
// `secure:` value decrypted. The tests have no key to decrypt with, so a secret's value is a marker that must
// never show up in clear text. One reader for the Pulumi mocks and the stand-in engine.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export const projectRoot = path.resolve(__dirname, "..", "..");

/** The clear-text value a secret has in a test; it must never appear in clear text on the wire. */
export function secretMarker(key: string): string {
  return `SECRET-MARKER-${key}-7f3c9a`;
}

/** A marker in the shape the key's real value has (Papertrail's is host:port). */
function markerValue(key: string): string {
  return key === "papertrailDestination" ? `${secretMarker(key)}.example.com:12345` : secretMarker(key);
}

export interface ProjectFile {
  name: string;
  main?: string;
  runtime: string | { name: string; options?: Record<string, unknown> };
  config?: Record<string, { default?: unknown; secret?: boolean } | unknown>;
}

export function readProject(root = projectRoot): ProjectFile {
  return parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

export interface StackConfig {
  /** `namespace:name` to the string the program reads. */
  config: Record<string, string>;
  /** `namespace:name` of every secret value. */
  secretKeys: string[];
}

/**
 * The config of `stack`. `overrides` are project keys (no namespace) set as if with `pulumi config set`;
 * undefined removes a key.
 */
export function stackFileConfig(
  stack: string,
  overrides: Record<string, unknown> = {},
  root = projectRoot,
): StackConfig {
  const project = readProject(root);
  const qualify = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
  const merged = new Map<string, unknown>();
  for (const [k, decl] of Object.entries(project.config ?? {})) {
    if (decl && typeof decl === "object" && "default" in decl)
      merged.set(qualify(k), (decl as { default: unknown }).default);
    else if (!(decl && typeof decl === "object")) merged.set(qualify(k), decl);
  }
  const doc = parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  } | null;
  for (const [k, v] of Object.entries(doc?.config ?? {})) merged.set(qualify(k), v);
  for (const [k, v] of Object.entries(overrides)) merged.set(qualify(k), v);

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of merged) {
    if (v === undefined) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && "secure" in v) {
      config[k] = markerValue(k.slice(k.indexOf(":") + 1));
      secretKeys.push(k);
    } else config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { config, secretKeys };
}

/** Every marker a stack's secrets were replaced with. */
export function markersOf(c: StackConfig): string[] {
  return c.secretKeys.map((k) => secretMarker(k.slice(k.indexOf(":") + 1)));
}

/** A temp bundle file with the given content; returns its path and a cleanup. */
export function tempBundle(content: string): { file: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
  const file = path.join(dir, "server.js");
  fs.writeFileSync(file, content);
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
