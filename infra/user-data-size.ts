// EC2 takes at most 16 KB of user-data, "in raw form, before it is base64-encoded" (EC2 user guide, Work
// with instance user data; RequestLaunchTemplateData.UserData: "User data is limited to 16 KB"). The
// check measures what the stack gives EC2 for a config's names, rendered by the same renderers and
// mappings the stack uses (host/, infra/host-input.ts), so `npm run render` and `pulumi up` refuse a
// config whose launch template or instance EC2 would refuse, naming the key, before anything is created.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Problem } from "../contract/problem";
import { renderNodeUserData } from "../host/haproxy/nodeUserData";
import { renderUserData, userDataLimitBytes } from "../host/userData";
import { releaseKey } from "../components/bundle/rules";
import type { StackConfig } from "./config-schema";
import { hostInputOf, nodeInputOf, runtimeWhere } from "./host-input";

/** How the stack hands a user-data to EC2: gzipped (cloud-init unpacks it) or as the text itself. */
export type Encoding = "gzip" | "text";

/** One user-data the stack sends, and how. */
export interface SentUserData {
  what: string;
  flavors: readonly StackConfig["loadBalancer"][];
  encoding: Encoding;
  render(c: StackConfig, region: string): string;
}

/**
 * The release a size is measured with, at its longest: the bundle bucket is auto-named at `pulumi up`
 * (`<service>-bucket-` and a random suffix), so it is taken at the longest name S3 allows (63, S3 bucket
 * naming rules), and the digest is a real one (64 hex digits that compress like a real digest), not the
 * zeros `npm run render` writes when no bundle is built.
 */
export function worstCaseBundle(c: StackConfig): ReturnType<typeof runtimeWhere> & {
  bundleUrl: string;
  bundleSha256: string;
} {
  const filler = createHash("sha256").update(`${c.serviceName} bucket`).digest("hex");
  const bucket = `${c.serviceName}-bucket-${filler}`.slice(0, 63);
  const bundleSha256 = createHash("sha256").update(`${c.serviceName} release`).digest("hex");
  return { bundleUrl: `s3://${bucket}/${releaseKey(bundleSha256)}`, bundleSha256, ...runtimeWhere(c, bucket) };
}

/**
 * What each flavor sends. Service hosts (the fleet's launch template, the HAProxy flavor's fixed fleet) and
 * HAProxy nodes (their launch template) get their cloud-config gzipped, as host/userData.ts's
 * encodeUserData makes it. When a component changes how it encodes its user-data, change its row here
 * (user-data-size.test.ts compares the rows with what the stack gives EC2).
 */
export const sentUserData: readonly SentUserData[] = [
  {
    what: "service host user-data",
    flavors: ["alb", "haproxy"],
    encoding: "gzip",
    render: (c, region) => renderUserData(hostInputOf(c, { region, ...worstCaseBundle(c) })),
  },
  {
    what: "HAProxy node user-data",
    flavors: ["haproxy"],
    encoding: "gzip",
    render: (c, region) => renderNodeUserData(nodeInputOf(c, region)),
  },
];

/** Bytes EC2 counts for a user-data: the gzip stream (level 9, as compressUserData) or the text. */
export function bytesSent(text: string, encoding: Encoding): number {
  return encoding === "gzip" ? gzipSync(text, { level: 9 }).length : Buffer.byteLength(text);
}

/** The size of every user-data a config's flavor sends, as sent. */
export function measureUserData(c: StackConfig, region: string, table: readonly SentUserData[] = sentUserData) {
  return table
    .filter((s) => s.flavors.includes(c.loadBalancer))
    .map((s) => ({ what: s.what, encoding: s.encoding, bytes: bytesSent(s.render(c, region), s.encoding) }));
}

/**
 * A problem for each user-data above EC2's limit, under serviceName: with env, the only keys a size grows
 * with (they are written into paths, units, tags and SSM names throughout the host files).
 */
export function checkUserDataSize(
  c: StackConfig,
  region: string,
  table: readonly SentUserData[] = sentUserData,
): Problem[] {
  return measureUserData(c, region, table)
    .filter((m) => m.bytes > userDataLimitBytes)
    .map((m) => ({
      field: "serviceName",
      message:
        `the ${m.what} for serviceName "${c.serviceName}" and env "${c.env}" is ${m.bytes} bytes as sent (${m.encoding}); ` +
        `EC2 takes at most ${userDataLimitBytes} (16 KB, before base64): shorten serviceName or env`,
    }));
}
