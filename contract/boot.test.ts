import { describe, expect, it } from "vitest";
import { bootBudget, defaultBootBudget, lifecycleHookMarginSec, measuredBootSec } from "./boot";

describe("boot budget", () => {
  it("never gives a grace period below 300 s, however fast the boot", () => {
    expect(bootBudget(40)).toEqual({
      measuredBootSec: 40,
      healthCheckGracePeriodSec: 300,
      lifecycleHookTimeoutSec: 300 + lifecycleHookMarginSec,
    });
  });

  it("gives twice a slow boot, rounded up to a whole minute, and the hook a margin above it", () => {
    expect(bootBudget(151).healthCheckGracePeriodSec).toBe(360);
    expect(bootBudget(181).healthCheckGracePeriodSec).toBe(420);
    expect(bootBudget(181).lifecycleHookTimeoutSec).toBe(420 + lifecycleHookMarginSec);
  });

  it("is the measured figure's by default, within what the Auto Scaling APIs take", () => {
    expect(defaultBootBudget).toEqual(bootBudget(measuredBootSec));
    expect(defaultBootBudget.healthCheckGracePeriodSec).toBeGreaterThanOrEqual(2 * measuredBootSec);
    // PutLifecycleHook HeartbeatTimeout: 30 to 7200.
    expect(defaultBootBudget.lifecycleHookTimeoutSec).toBeLessThanOrEqual(7200);
  });

  it("refuses a figure that is not a positive number", () => {
    expect(() => bootBudget(0)).toThrow(/bootSec: 0 must be a positive number/);
    expect(() => bootBudget(Number.NaN)).toThrow(/bootSec: NaN/);
  });
});
