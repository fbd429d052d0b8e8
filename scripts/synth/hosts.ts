// Host files out of the user-data the program produced: a launch template's `userData` and an instance's
// `userDataBase64` are base64 (host/userData.ts encodeUserData gzips them first), an instance's `userData` is
// text. A cloud-config's write_files become files at their host paths; the cloud-config itself is kept with
// each content replaced by its sha256, so its owners, modes and commands are reviewed without every file twice.
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { parse, stringify } from "yaml";

export const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

/** The user-data inputs of a resource, as the provider takes them: base64 or text. */
export function userDataInputs(type: string): Record<string, "base64" | "text"> {
  return type === "aws:ec2/launchTemplate:LaunchTemplate"
    ? { userData: "base64" }
    : { userData: "text", userDataBase64: "base64" };
}

/** The user-data as cloud-init reads it: base64 decoded where the input is base64, gunzipped when gzipped. */
export function decodeUserData(value: string, encoding: "base64" | "text"): string {
  const bytes = encoding === "base64" ? Buffer.from(value, "base64") : Buffer.from(value);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
}

interface WriteFile {
  path: string;
  content?: string;
  encoding?: string;
  [k: string]: unknown;
}

/** A write_files entry's content as it lands on disk (cloud-init's b64 / gzip+b64 encodings). */
function fileContent(f: WriteFile): string {
  const content = f.content ?? "";
  const enc = (f.encoding ?? "").toLowerCase();
  if (!/b64|base64/.test(enc)) return content;
  const bytes = Buffer.from(content, "base64");
  return (/gz/.test(enc) ? gunzipSync(bytes) : bytes).toString("utf8");
}

/**
 * The files one user-data writes, under `folder` (e.g. hosts/sample-api-lt): each write_files entry at its
 * host path, plus cloud-config.yaml. A user-data that is not a cloud-config is written whole as `user-data`.
 * `usedBy` names the resources that carry it (one line each in the header).
 */
export function hostFiles(userData: string, folder: string, usedBy: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const header = `# user-data of:\n${usedBy.map((u) => `#   ${u}\n`).join("")}`;
  if (!userData.startsWith("#cloud-config")) {
    out.set(`${folder}/user-data`, userData);
    return out;
  }
  const doc = parse(userData) as { write_files?: WriteFile[] } | null;
  const files = doc?.write_files ?? [];
  for (const f of files) {
    if (typeof f.path !== "string" || !f.path.startsWith("/"))
      throw new Error(`${folder}: a write_files entry has no absolute path (${JSON.stringify(f.path)})`);
    const target = `${folder}${f.path}`;
    if (out.has(target)) throw new Error(`${folder}: ${f.path} is written twice by the same user-data`);
    out.set(target, fileContent(f));
  }
  const skeleton = {
    ...doc,
    write_files: files.map((f) => ({ ...f, content: `sha256:${sha256(fileContent(f))}`, encoding: undefined })),
  };
  const lines = userData.split("\n");
  const end = lines.findIndex((l, i) => i > 0 && !l.startsWith("#"));
  const comments = lines.slice(1, end < 0 ? 1 : end);
  out.set(
    `${folder}/cloud-config.yaml`,
    `#cloud-config\n${header}${comments.map((c) => `${c}\n`).join("")}# each content below is the sha256 of the file beside this one\n${stringify(skeleton, { lineWidth: 0 })}`,
  );
  return out;
}
