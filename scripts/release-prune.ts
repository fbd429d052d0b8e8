// Which old release objects to delete from the bundle bucket. The Bundle component keeps every replaced
// release object (retainOnDelete), because a running instance, an instance-refresh auto-rollback or a
// launch from an older launch-template version fetches its own release; so they pile up as current object
// versions, which the bucket's noncurrent-version lifecycle rule never expires. This is the decision only:
// listing the bucket and deleting needs @aws-sdk/client-s3, which the project does not depend on yet.
import { releaseKey } from "../components/bundle/rules";

export interface ReleaseObject {
  key: string;
  lastModified: Date;
}

export interface PruneOptions {
  /** The key the stack deploys now (the stack output bundleUrl). */
  current: string;
  /** The key of the release before it, what a rollback returns to; absent for a first release. */
  previous?: string;
  /** How many of the newest releases to keep, current and previous aside. */
  keep: number;
}

export interface PrunePlan {
  keep: string[];
  prune: string[];
}

const RELEASE_KEY = new RegExp(`^${releaseKey("[0-9a-f]{64}").replace(/[.]/g, "\\.")}$`);

/**
 * Keeps the `keep` newest releases plus the current and the previous one whatever their age; prunes the other
 * release objects. Keys that are not release objects are not considered at all. Refuses to plan when the
 * listing does not hold the current release: it is the wrong bucket, prefix or listing.
 */
export function planPrune(objects: ReleaseObject[], opts: PruneOptions): PrunePlan {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) throw new Error(`keep: ${opts.keep} must be a whole number >= 0`);
  for (const [name, key] of [
    ["current", opts.current],
    ["previous", opts.previous],
  ] as const) {
    if (key !== undefined && !RELEASE_KEY.test(key))
      throw new Error(`${name}: ${key} is not a release key (releases/<sha256>.js)`);
  }
  const releases = objects.filter((o) => RELEASE_KEY.test(o.key));
  if (!releases.some((o) => o.key === opts.current))
    throw new Error(`current release ${opts.current} is not in the listing: refusing to prune`);
  // Newest first; the same time falls back to the key so a plan is repeatable.
  const newest = [...releases].sort(
    (a, b) => b.lastModified.getTime() - a.lastModified.getTime() || a.key.localeCompare(b.key),
  );
  const kept = new Set([
    opts.current,
    ...(opts.previous ? [opts.previous] : []),
    ...newest.slice(0, opts.keep).map((o) => o.key),
  ]);
  return {
    keep: newest.filter((o) => kept.has(o.key)).map((o) => o.key),
    prune: newest.filter((o) => !kept.has(o.key)).map((o) => o.key),
  };
}
