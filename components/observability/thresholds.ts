// Pure rules of the Observability component (no Pulumi import): the alert levels, their defaults, the
// checks a combination of levels must pass, and the healthy-host levels derived from the fleet size.
// Checks return the field and the message separately, so a caller can say where the field came from
// (an arg path, a config key) without rewriting the text.
import { withDefaults } from "../../contract/defaults";
import type { Problem } from "../../contract/problem";

/** Alert levels of one service. A critical level pages; a warning level only notifies. */
export interface ObservabilityThresholds {
  /** Share of target responses that are 5xx, 0-1, at which the error monitors and alarm go critical. Default 0.05. */
  errorRateCritical: number;
  /** Share of 5xx responses, 0-1, at which the error monitors warn. Default 0.02. */
  errorRateWarning: number;
  /**
   * Requests per minute below which the error share is damped: each minute's denominator is at least this,
   * so 1 error in 2 requests at night reads as 1/minRequests, not 50%. Default 20.
   */
  minRequests: number;
  /** Target p99 response time (s, from the ALB) at which the p99 monitor and alarm go critical. Default 2. */
  latencyP99CriticalSeconds: number;
  /** Target p99 response time (s, from the ALB) at which the p99 monitor warns. Default 1. */
  latencyP99WarningSeconds: number;
  /**
   * Service p95 request duration (s, from the service's own DogStatsD timings: the percentile the Datadog
   * agent computes by default) at which the p95 monitor of the HAProxy flavor goes critical.
   * Default latencyP99CriticalSeconds.
   */
  latencyP95CriticalSeconds: number;
  /** Service p95 request duration (s) at which the p95 monitor of the HAProxy flavor warns. Default latencyP99WarningSeconds. */
  latencyP95WarningSeconds: number;
  /** Host CPU used (%) at which the CPU monitor and the fleet CPU alarm go critical. Default 90. */
  cpuCriticalPercent: number;
  /** Host CPU used (%) at which the CPU monitor warns. Default 80. */
  cpuWarningPercent: number;
  /** Host memory used (%) at which the memory monitor goes critical. Default 90. */
  memoryCriticalPercent: number;
  /** Host memory used (%) at which the memory monitor warns. Default 80. */
  memoryWarningPercent: number;
  /** Host disk used (%) at which the disk monitor goes critical. Default 90. */
  diskCriticalPercent: number;
  /** Host disk used (%) at which the disk monitor warns. Default 80. */
  diskWarningPercent: number;
  /** Event-loop delay p99 (ms) at which the event-loop monitor goes critical. Default 200. */
  eventLoopDelayCriticalMs: number;
  /** Event-loop delay p99 (ms) at which the event-loop monitor warns. Default 100. */
  eventLoopDelayWarningMs: number;
  /** Minutes between repeated notifications while a monitor stays in alert. Default 60. */
  renotifyMinutes: number;
}

export const thresholdDefaults: ObservabilityThresholds = {
  errorRateCritical: 0.05,
  errorRateWarning: 0.02,
  minRequests: 20,
  latencyP99CriticalSeconds: 2,
  latencyP99WarningSeconds: 1,
  latencyP95CriticalSeconds: 2,
  latencyP95WarningSeconds: 1,
  cpuCriticalPercent: 90,
  cpuWarningPercent: 80,
  memoryCriticalPercent: 90,
  memoryWarningPercent: 80,
  diskCriticalPercent: 90,
  diskWarningPercent: 80,
  eventLoopDelayCriticalMs: 200,
  eventLoopDelayWarningMs: 100,
  renotifyMinutes: 60,
};

/**
 * The given levels over the defaults (undefined means "not given"). The p95 levels default to the p99 levels
 * given, so a stack that tuned p99 before the p95 levels existed keeps its p95 monitor where it was.
 */
export function resolveThresholds(given: Partial<ObservabilityThresholds> = {}): ObservabilityThresholds {
  const p99 = withDefaults(thresholdDefaults, given);
  // p95 levels not given follow the p99 ones given, so a stack that set only p99 keeps its levels
  return withDefaults(
    {
      ...p99,
      latencyP95CriticalSeconds: p99.latencyP99CriticalSeconds,
      latencyP95WarningSeconds: p99.latencyP99WarningSeconds,
    },
    given,
  );
}

const criticalWarningPairs: [keyof ObservabilityThresholds, keyof ObservabilityThresholds][] = [
  ["errorRateCritical", "errorRateWarning"],
  ["latencyP99CriticalSeconds", "latencyP99WarningSeconds"],
  ["latencyP95CriticalSeconds", "latencyP95WarningSeconds"],
  ["cpuCriticalPercent", "cpuWarningPercent"],
  ["memoryCriticalPercent", "memoryWarningPercent"],
  ["diskCriticalPercent", "diskWarningPercent"],
  ["eventLoopDelayCriticalMs", "eventLoopDelayWarningMs"],
];

/** Problems with a combination of levels; empty when valid. */
export function checkThresholds(t: ObservabilityThresholds): Problem[] {
  const problems: Problem[] = [];
  for (const [crit, warn] of criticalWarningPairs) {
    if (!(t[warn] > 0)) problems.push({ field: warn, message: `${t[warn]} must be > 0` });
    if (!(t[crit] > t[warn])) problems.push({ field: crit, message: `${t[crit]} must be above ${warn} (${t[warn]})` });
  }
  if (t.errorRateCritical > 1)
    problems.push({ field: "errorRateCritical", message: `${t.errorRateCritical} is a share of requests, 0-1` });
  for (const k of ["cpuCriticalPercent", "memoryCriticalPercent", "diskCriticalPercent"] as const)
    if (t[k] > 100) problems.push({ field: k, message: `${t[k]} must be <= 100` });
  for (const k of ["minRequests", "renotifyMinutes"] as const)
    if (!Number.isInteger(t[k]) || t[k] < 1) problems.push({ field: k, message: `${t[k]} must be a positive integer` });
  return problems;
}

/** Problems with the number of healthy hosts the fleet must keep; empty when valid. */
export function checkExpectedHealthyHosts(n: number): Problem[] {
  return Number.isInteger(n) && n >= 1
    ? []
    : [{ field: "expectedHealthyHosts", message: `${n} must be a positive integer` }];
}

/**
 * Levels of the healthy-hosts monitors for a fleet that must keep `n` hosts: a warning as soon as one host is
 * missing, critical once half the fleet is gone; with one host, only critical (when it is gone).
 */
export function healthyHostLevels(n: number): { critical: number; warning?: number } {
  return n >= 2 ? { critical: Math.ceil(n / 2), warning: n } : { critical: n };
}

/**
 * Window of a healthy-hosts alarm: one-minute periods, every one of them below the level, over a window
 * longer than `bootSec`, the time a new host has to boot and pass its load balancer's check (the group's
 * health check grace period). A new stack's targets stay unhealthy for at most that long, so its first boot
 * never pages; a real loss still alarms within the window. At least 3 minutes.
 */
export function healthyHostsAlarmWindow(bootSec: number): {
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
} {
  const minutes = Math.max(3, Math.floor(bootSec / 60) + 1);
  return { period: 60, evaluationPeriods: minutes, datapointsToAlarm: minutes };
}
