import { describe, expect, it } from "vitest";
import { namesFrom } from "../../contract/problem";
import { checkAlbTimings } from "./rules";

const ok = {
  idleTimeoutSec: 60,
  keepAliveTimeoutMs: 65_000,
  drainDelayMs: 10_000,
  shutdownTimeoutMs: 30_000,
  deregistrationDelaySec: 30,
  slowStartSec: 0,
};

describe("checkAlbTimings", () => {
  it.each([
    [{ idleTimeoutSec: 65 }, "keepAliveTimeoutMs"],
    [{ idleTimeoutSec: 0 }, "idleTimeoutSec"],
    [{ deregistrationDelaySec: 5 }, "deregistrationDelaySec"],
    [{ slowStartSec: 5 }, "slowStartSec"],
  ])("refuses %o under the field %s", (extra, field) => {
    const problems = checkAlbTimings({ ...ok, ...extra });
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0]!.message.startsWith(field)).toBe(false);
  });

  it("names the fields a message mentions the caller's way", () => {
    const [p] = checkAlbTimings(
      { ...ok, idleTimeoutSec: 65 },
      namesFrom({ keepAliveTimeoutMs: "keepAlive", idleTimeoutSec: "idle" }),
    );
    expect(p!.message).toMatch(/: raise keepAlive or lower idle$/);
  });
});
