import { describe, expect, it } from "vitest";
import {
  ObservabilityThresholds,
  checkExpectedHealthyHosts,
  checkThresholds,
  healthyHostLevels,
  healthyHostsAlarmWindow,
  resolveThresholds,
  thresholdDefaults,
} from "./thresholds";

describe("thresholds", () => {
  it("the defaults pass their own checks, and every level has a default", () => {
    expect(checkThresholds(thresholdDefaults)).toEqual([]);
    expect(Object.values(resolveThresholds()).every((v) => typeof v === "number")).toBe(true);
    expect(resolveThresholds()).toEqual(thresholdDefaults);
  });

  it("given levels win over the defaults; undefined means not given", () => {
    const t = resolveThresholds({ cpuCriticalPercent: 95, cpuWarningPercent: undefined });
    expect(t.cpuCriticalPercent).toBe(95);
    expect(t.cpuWarningPercent).toBe(thresholdDefaults.cpuWarningPercent);
  });

  it("the p95 levels follow the p99 levels given, unless given themselves", () => {
    expect(resolveThresholds({ latencyP99CriticalSeconds: 3, latencyP99WarningSeconds: 1.5 })).toMatchObject({
      latencyP95CriticalSeconds: 3,
      latencyP95WarningSeconds: 1.5,
    });
    expect(
      resolveThresholds({
        latencyP99CriticalSeconds: 3,
        latencyP95CriticalSeconds: 0.8,
        latencyP95WarningSeconds: 0.4,
      }),
    ).toMatchObject({
      latencyP99CriticalSeconds: 3,
      latencyP95CriticalSeconds: 0.8,
      latencyP95WarningSeconds: 0.4,
    });
  });

  const problems = (given: Partial<ObservabilityThresholds>) => checkThresholds(resolveThresholds(given));
  it.each<[Partial<ObservabilityThresholds>, { field: string; message: string }]>([
    [{ cpuWarningPercent: 95 }, { field: "cpuCriticalPercent", message: "90 must be above cpuWarningPercent (95)" }],
    [
      { errorRateCritical: 5, errorRateWarning: 2 },
      { field: "errorRateCritical", message: "5 is a share of requests, 0-1" },
    ],
    [{ diskWarningPercent: 0 }, { field: "diskWarningPercent", message: "0 must be > 0" }],
    [{ memoryCriticalPercent: 101 }, { field: "memoryCriticalPercent", message: "101 must be <= 100" }],
    [{ minRequests: 2.5 }, { field: "minRequests", message: "2.5 must be a positive integer" }],
    [{ renotifyMinutes: 0 }, { field: "renotifyMinutes", message: "0 must be a positive integer" }],
    [
      { latencyP95CriticalSeconds: 0.5 },
      { field: "latencyP95CriticalSeconds", message: "0.5 must be above latencyP95WarningSeconds (1)" },
    ],
  ])("refuses %j: the field apart from a message that does not repeat it", (given, problem) => {
    expect(problems(given)).toContainEqual(problem);
    for (const p of problems(given)) expect(p.message.startsWith(p.field)).toBe(false);
  });

  it("expected healthy hosts: a positive integer", () => {
    expect(checkExpectedHealthyHosts(1)).toEqual([]);
    expect(checkExpectedHealthyHosts(0)).toEqual([
      { field: "expectedHealthyHosts", message: "0 must be a positive integer" },
    ]);
    expect(checkExpectedHealthyHosts(1.5)).toHaveLength(1);
  });

  it.each([
    [1, { critical: 1 }],
    [2, { critical: 1, warning: 2 }],
    [3, { critical: 2, warning: 3 }],
    [4, { critical: 2, warning: 4 }],
  ])("healthy-host levels for %i hosts: warn at one missing, critical at half gone", (n, levels) => {
    expect(healthyHostLevels(n)).toEqual(levels);
  });
});

describe("healthyHostsAlarmWindow", () => {
  it("needs every minute of a window longer than the boot budget below the level, so a first boot never pages", () => {
    // A new stack's targets are unhealthy until the first hosts have booted and passed the check, which the
    // boot budget (the group's health check grace period) bounds; a real loss still alarms within the window.
    for (const [bootSec, minutes] of [
      [0, 3],
      [60, 3],
      [300, 6],
      [330, 6],
      [360, 7],
      [600, 11],
    ] as const) {
      const w = healthyHostsAlarmWindow(bootSec);
      expect(w, String(bootSec)).toEqual({ period: 60, evaluationPeriods: minutes, datapointsToAlarm: minutes });
      expect(w.evaluationPeriods * w.period).toBeGreaterThan(bootSec);
    }
  });
});
