// Pure rules of the Bundle component (no Pulumi import).

export const defaultBundlePath = "dist/app/server.js";

/** The object key of a release: its content hash, so new content is a new key and a new launch template. */
export function releaseKey(sha256: string): string {
  return `releases/${sha256}.js`;
}
