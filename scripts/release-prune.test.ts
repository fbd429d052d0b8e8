import { describe, expect, it } from "vitest";
import { releaseKey } from "../components/bundle/rules";
import { ReleaseObject, planPrune } from "./release-prune";

const key = (n: number) => releaseKey(n.toString(16).padStart(64, "0"));
/** Release n uploaded on day n. */
const release = (n: number): ReleaseObject => ({ key: key(n), lastModified: new Date(Date.UTC(2026, 0, n)) });
const bucket = [1, 2, 3, 4, 5, 6].map(release);

describe("planPrune", () => {
  it("keeps the newest N and prunes the rest, oldest last", () => {
    expect(planPrune(bucket, { current: key(6), previous: key(5), keep: 3 })).toEqual({
      keep: [key(6), key(5), key(4)],
      prune: [key(3), key(2), key(1)],
    });
  });

  it("never prunes the current or the previous release, however old (a rollback to an old bundle)", () => {
    const plan = planPrune(bucket, { current: key(2), previous: key(1), keep: 2 });
    expect(plan.keep).toEqual([key(6), key(5), key(2), key(1)]);
    expect(plan.prune).toEqual([key(4), key(3)]);
    expect(planPrune(bucket, { current: key(6), previous: key(5), keep: 0 }).keep).toEqual([key(6), key(5)]);
  });

  it("keeps only the current one when there is no previous release and keep is 0", () => {
    expect(planPrune([release(1)], { current: key(1), keep: 0 })).toEqual({ keep: [key(1)], prune: [] });
  });

  it("leaves objects that are not releases alone", () => {
    const others = [
      { key: "releases/notes.txt", lastModified: new Date(0) },
      { key: "other/x.js", lastModified: new Date(0) },
    ];
    const plan = planPrune([...bucket, ...others], { current: key(6), previous: key(5), keep: 1 });
    expect([...plan.keep, ...plan.prune]).not.toContain("releases/notes.txt");
    expect([...plan.keep, ...plan.prune]).not.toContain("other/x.js");
  });

  it("orders releases uploaded at the same time by key, so the plan is repeatable", () => {
    const same = [3, 1, 2].map((n) => ({ key: key(n), lastModified: new Date(0) }));
    expect(planPrune(same, { current: key(3), keep: 1 })).toEqual({ keep: [key(1), key(3)], prune: [key(2)] });
  });

  it("refuses a listing without the current release, a bad key or a bad count", () => {
    expect(() => planPrune(bucket, { current: key(9), keep: 3 })).toThrow(/not in the listing: refusing to prune/);
    expect(() => planPrune(bucket, { current: "releases/abc.js", keep: 3 })).toThrow(
      /current: releases\/abc\.js is not a release key/,
    );
    expect(() => planPrune(bucket, { current: key(6), previous: "x", keep: 3 })).toThrow(
      /previous: x is not a release key/,
    );
    expect(() => planPrune(bucket, { current: key(6), keep: -1 })).toThrow(/keep: -1/);
    expect(() => planPrune(bucket, { current: key(6), keep: 1.5 })).toThrow(/keep: 1.5/);
  });
});
