// The Datadog monitors of one service as a table: one row per failure signal a person acts on, with its
// query, levels, runbook action and timing. Pure (no Pulumi import): index.ts turns each row into a
// datadog.Monitor named `<component name>-<key>`, so a row's key is part of a URN and never changes.
import { ObservabilityThresholds, healthyHostLevels } from "./thresholds";

/**
 * CloudWatch metrics reach Datadog through its crawler 10-20 minutes late (Datadog's "Cloud Metric Delay" guide),
 * so monitors on them look 15 minutes back; agent and DogStatsD metrics arrive within seconds.
 */
export const AWS_METRIC_EVALUATION_DELAY_S = 900;
export const AGENT_METRIC_EVALUATION_DELAY_S = 60;

/** Monitor options that differ between rows. */
export interface MonitorTiming {
  evaluationDelay: number;
  requireFullWindow: boolean;
  notifyNoData: boolean;
  noDataTimeframe?: number;
  newGroupDelay?: number;
}

export interface MonitorRow {
  /** The monitor resource is `<component name>-<key>`. */
  key: string;
  /** Shown after `[<service>][<env>] ` in the monitor's name, and in its messages. */
  title: string;
  /**
   * What the query selects on: `service` is `service:<name>,env:<env>`, the tags every host and DogStatsD
   * metric of the service carries; `targetGroup` is `targetgroup:<lower-cased ARN suffix>` (ALB metrics).
   */
  selects: "service" | "targetGroup";
  /** The query for that selector; its own threshold is the critical level. */
  query: (selector: string) => string;
  critical: number;
  warning?: number;
  /** The runbook step the message gives the person notified. */
  action: string;
  timing: MonitorTiming;
}

/** Whose metrics watch the requests: the ALB's (CloudWatch), or without an ALB (HAProxy) the service's own. */
export type MonitorFlavor = "alb" | "haproxy";

const awsDelay: MonitorTiming = {
  evaluationDelay: AWS_METRIC_EVALUATION_DELAY_S,
  requireFullWindow: false,
  notifyNoData: false,
};
const appDelay: MonitorTiming = {
  evaluationDelay: AGENT_METRIC_EVALUATION_DELAY_S,
  requireFullWindow: false,
  notifyNoData: false,
};
const hostDelay: MonitorTiming = {
  evaluationDelay: AGENT_METRIC_EVALUATION_DELAY_S,
  newGroupDelay: 300,
  notifyNoData: false,
  requireFullWindow: false,
};

/** 5xx share of requests over 10 minutes of per-minute points, each minute's denominator at least minRequests. */
function errorShare(errors: string, requests: string, t: ObservabilityThresholds): string {
  // With as_count() Datadog sums numerator and denominator over the window before dividing (low traffic cannot
  // page); default_zero: no point is sent for a minute without errors.
  return `sum(last_10m):default_zero(${errors}.as_count().rollup(sum, 60)) / clamp_min(default_zero(${requests}.as_count().rollup(sum, 60)), ${t.minRequests}) > ${t.errorRateCritical}`;
}

/** ALB flavor: the target group's CloudWatch metrics. */
function albRows(t: ObservabilityThresholds, hosts: { critical: number; warning?: number }): MonitorRow[] {
  return [
    {
      key: "alb-5xx",
      title: "ALB target 5xx share",
      selects: "targetGroup",
      query: (tg) =>
        errorShare(
          `sum:aws.applicationelb.httpcode_target_5xx{${tg}}`,
          `sum:aws.applicationelb.request_count{${tg}}`,
          t,
        ),
      critical: t.errorRateCritical,
      warning: t.errorRateWarning,
      action:
        "Check the service log for the failing route; if a deploy is rolling, the instance refresh rolls back on its own, otherwise roll back to the previous bundle.",
      timing: awsDelay,
    },
    {
      key: "alb-p99",
      title: "ALB target p99 latency (s)",
      selects: "targetGroup",
      query: (tg) =>
        `avg(last_10m):avg:aws.applicationelb.target_response_time.p99{${tg}} > ${t.latencyP99CriticalSeconds}`,
      critical: t.latencyP99CriticalSeconds,
      warning: t.latencyP99WarningSeconds,
      action:
        "Look at event-loop delay and CPU per host on the dashboard; scale out if every host is busy, else find the slow route in the request log.",
      timing: awsDelay,
    },
    {
      key: "healthy-hosts",
      title: "ALB healthy hosts",
      selects: "targetGroup",
      query: (tg) => `min(last_10m):sum:aws.applicationelb.healthy_host_count{${tg}} < ${hosts.critical}`,
      ...hosts,
      action:
        "Open the target group's health in the console; read the unhealthy host's service log (`journalctl -u <service>`) over SSM Session Manager; the ASG replaces hosts that stay unhealthy.",
      timing: { ...awsDelay, notifyNoData: true, noDataTimeframe: 30 },
    },
  ];
}

/** HAProxy flavor (no ALB metrics): the same signals from the service's own DogStatsD metrics. */
function serviceRows(t: ObservabilityThresholds, hosts: { critical: number; warning?: number }): MonitorRow[] {
  return [
    {
      key: "app-5xx",
      title: "Service 5xx share",
      selects: "service",
      query: (svc) => errorShare(`sum:app.request.count{${svc},status_class:5xx}`, `sum:app.request.count{${svc}}`, t),
      critical: t.errorRateCritical,
      warning: t.errorRateWarning,
      action:
        "Check the service log for the failing route; if a rollout is running, it stops at the first host that does not get ready; otherwise roll back to the previous bundle.",
      timing: appDelay,
    },
    {
      // p95: the percentile the Datadog agent computes for DogStatsD timings by default (histogram_percentiles).
      key: "app-p95",
      title: "Service p95 request duration (ms)",
      selects: "service",
      query: (svc) =>
        `avg(last_10m):max:app.request.duration.95percentile{${svc}} > ${t.latencyP95CriticalSeconds * 1000}`,
      critical: t.latencyP95CriticalSeconds * 1000,
      warning: t.latencyP95WarningSeconds * 1000,
      action:
        "Look at event-loop delay and CPU per host on the dashboard; add hosts if every host is busy, else find the slow route in the request log.",
      timing: appDelay,
    },
    {
      // Every running service host sends its event-loop gauge every few seconds: hosts that stop are missing hosts.
      key: "hosts-reporting",
      title: "Service hosts reporting",
      selects: "service",
      query: (svc) =>
        `min(last_10m):count_not_null(max:app.event_loop.delay.p99{${svc}} by {host}) < ${hosts.critical}`,
      ...hosts,
      action:
        "Find the silent host (`systemctl status <service>` over SSM Session Manager); the service restarts itself, a host that stays down needs replacing.",
      timing: { ...appDelay, notifyNoData: true, noDataTimeframe: 30 },
    },
  ];
}

/** Both flavors: the hosts' agent metrics and the service's event-loop gauge, per host. */
function hostRows(t: ObservabilityThresholds): MonitorRow[] {
  return [
    {
      key: "host-cpu",
      title: "Host CPU used (%)",
      selects: "service",
      query: (svc) => `avg(last_10m):100 - avg:system.cpu.idle{${svc}} by {host} > ${t.cpuCriticalPercent}`,
      critical: t.cpuCriticalPercent,
      warning: t.cpuWarningPercent,
      action:
        "If all hosts are hot, raise the fleet's desired capacity; if one is, look for a hot loop in its service log and replace the host.",
      timing: hostDelay,
    },
    {
      key: "host-memory",
      title: "Host memory used (%)",
      selects: "service",
      query: (svc) =>
        `avg(last_10m):100 * (1 - avg:system.mem.pct_usable{${svc}} by {host}) > ${t.memoryCriticalPercent}`,
      critical: t.memoryCriticalPercent,
      warning: t.memoryWarningPercent,
      action:
        "Compare worker RSS/heap on the dashboard; a steady climb is a leak: restart the service on that host and open a bug.",
      timing: hostDelay,
    },
    {
      key: "host-disk",
      title: "Host disk used (%)",
      selects: "service",
      query: (svc) => `max(last_10m):100 * max:system.disk.in_use{${svc}} by {host,device} > ${t.diskCriticalPercent}`,
      critical: t.diskCriticalPercent,
      warning: t.diskWarningPercent,
      action: "Check /var/log and old releases under /opt; logrotate and release pruning should keep it flat.",
      timing: hostDelay,
    },
    {
      key: "event-loop",
      title: "Event-loop delay p99 (ms)",
      selects: "service",
      query: (svc) => `avg(last_10m):max:app.event_loop.delay.p99{${svc}} by {host} > ${t.eventLoopDelayCriticalMs}`,
      critical: t.eventLoopDelayCriticalMs,
      warning: t.eventLoopDelayWarningMs,
      action:
        "Something blocks the event loop (sync I/O, big JSON, CPU work): find the route in the request log with the longest durations on that host.",
      timing: hostDelay,
    },
  ];
}

/** The monitors of one service: the flavor's load-balancer-side rows, then the host rows. */
export function monitorTable(
  flavor: MonitorFlavor,
  t: ObservabilityThresholds,
  expectedHealthyHosts: number,
): MonitorRow[] {
  const hosts = healthyHostLevels(expectedHealthyHosts);
  return [...(flavor === "alb" ? albRows(t, hosts) : serviceRows(t, hosts)), ...hostRows(t)];
}
