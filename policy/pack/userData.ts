// No secret in clear text in user-data. EC2 shows an instance's user-data to anyone allowed
// ec2:DescribeInstanceAttribute / DescribeLaunchTemplateVersions, and to every process on the host through IMDS;
// secrets go to SSM SecureString parameters that the boot reads as root.
//
// User-data comes base64-encoded (launch templates, userDataBase64) or as text (an instance's userData), often
// gzipped (cloud-init unpacks it), as MIME multi-part, or as a cloud-config whose write_files carry content encoded
// b64, gz or gz+b64: every layer is opened before the text is scanned.
import { gunzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";

const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/;

/** Text when `b` is UTF-8 text, gunzipped first when it is gzip. */
function unpack(b: Buffer): string | undefined {
  if (b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return unpack(gunzipSync(b));
    } catch {
      return undefined;
    }
  }
  const text = b.toString("utf8");
  const control = [...b].some((c) => c < 0x09 || (c > 0x0d && c < 0x20));
  return text.includes("\uFFFD") || control ? undefined : text;
}

/** The user-data as text: base64 and gzip layers removed (text that is neither stays as it is). */
export function decodeUserData(value: string): string {
  const raw = Buffer.from(value, "utf8");
  if (raw[0] === 0x1f && raw[1] === 0x8b) return unpack(raw) ?? value;
  if (value.length >= 8 && BASE64.test(value)) {
    const inner = unpack(Buffer.from(value, "base64"));
    if (inner !== undefined) return inner;
  }
  return value;
}

const ENCODED = /^(b64|base64|gz|gzip|gz\+b64|gz\+base64|gzip\+b64|gzip\+base64)$/;

/** Every text inside the user-data: itself, MIME parts, and write_files contents, each decoded. */
export function userDataTexts(value: string, depth = 0): string[] {
  const text = decodeUserData(value);
  if (depth > 4) return [text];
  const out = [text];
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
  if (/^Content-Type:\s*multipart\//im.test(text) && boundary)
    for (const part of text.split(`--${boundary}`).slice(1)) {
      const [head, ...body] = part.split(/\r?\n\r?\n/);
      const content = body.join("\n\n").trim();
      if (!content) continue;
      out.push(
        ...userDataTexts(
          /base64/i.test(head ?? "") ? Buffer.from(content, "base64").toString("latin1") : content,
          depth + 1,
        ),
      );
    }
  if (/^#cloud-config/.test(text)) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      doc = undefined;
    }
    const files = (doc as { write_files?: { content?: unknown; encoding?: string }[] } | undefined)?.write_files;
    for (const f of Array.isArray(files) ? files : [])
      if (typeof f?.content === "string" && ENCODED.test(String(f.encoding ?? "")))
        out.push(...userDataTexts(f.content, depth + 1));
  }
  return out;
}

/** Values shaped like secrets, by kind: a hit names the kind, never the value. */
export const SECRET_SHAPES: readonly [string, RegExp][] = [
  ["an AWS access key id", /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["an AWS secret access key", /aws_secret_access_key\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b/i],
  ["a private key", /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/],
  ["a Datadog API or application key", /\b(?:DD_API_KEY|DD_APP_KEY|api_key|app_key)\s*[:=]\s*["']?[0-9a-f]{32,40}\b/i],
  ["a Papertrail destination", /\blogs\d*\.papertrailapp\.com:\d{2,5}\b/i],
  ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ["a Slack token", /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
];

/**
 * A literal value given to a setting named like a secret (`password=...`, `api_key: ...`, `--token ...`): not a
 * reference ($VAR, $(cmd), ${x}), a path or a placeholder the boot fills in.
 */
const SECRET_SETTING =
  /\b([A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|apikey|private[_-]?key)[A-Za-z0-9_]*)["']?\s*(?:=|:\s|\s+)\s*["']?([^\s"'`]{8,})/gi;
const NOT_A_VALUE = /^(?:\$|\/|<|\{\{|%|@|arn:|ssm:|file:|https?:\/\/|-)/;

/** What in the texts looks like a secret, as "kind" or "setting <name>"; [] when nothing does. */
export function secretFindings(texts: readonly string[], knownSecrets: readonly string[] = []): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    for (const [kind, re] of SECRET_SHAPES) if (re.test(text)) found.add(kind);
    for (const m of text.matchAll(SECRET_SETTING)) {
      const [name, value] = [m[1]!, m[2]!];
      if (NOT_A_VALUE.test(value) || /^[\d.]+$/.test(value) || /[-_]ttl|[-_]seconds|[-_]file|[-_]path/i.test(name))
        continue;
      if (/^[A-Za-z0-9+/=_-]+$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value))
        found.add(`a literal value for ${name}`);
    }
    for (const s of knownSecrets)
      if (s.length >= 8 && text.includes(s)) found.add("the value of a secret of the stack");
  }
  return [...found];
}
