import { describe, expect, it } from "vitest";
import { AGENT_METRIC_EVALUATION_DELAY_S, AWS_METRIC_EVALUATION_DELAY_S, MonitorRow, monitorTable } from "./monitors";
import { resolveThresholds, thresholdDefaults } from "./thresholds";

const selector = {
  service: "service:sample-api,env:prod",
  targetGroup: "targetgroup:targetgroup/sample-tg/73e2d6bc24d8a067",
};
const queryOf = (row: MonitorRow) => row.query(selector[row.selects]);
const rowOf = (rows: MonitorRow[], key: string) => rows.find((r) => r.key === key)!;

describe("monitor table", () => {
  // The keys name the monitor resources: a changed key is a changed URN (a delete and a create).
  it.each([
    ["alb", ["alb-5xx", "alb-p99", "healthy-hosts", "host-cpu", "host-memory", "host-disk", "event-loop"]],
    ["haproxy", ["app-5xx", "app-p95", "hosts-reporting", "host-cpu", "host-memory", "host-disk", "event-loop"]],
  ] as const)("%s flavor: one row per failure signal, keys as before", (flavor, keys) => {
    expect(monitorTable(flavor, thresholdDefaults, 3).map((r) => r.key)).toEqual(keys);
  });

  it.each(["alb", "haproxy"] as const)(
    "%s flavor: each query's own threshold is its critical level, warning below it (above for host counts)",
    (flavor) => {
      for (const row of monitorTable(flavor, thresholdDefaults, 3)) {
        expect(queryOf(row), row.key).toMatch(new RegExp(`[<>] ${String(row.critical).replace(".", "\\.")}$`));
        expect(row.warning, row.key).toBeDefined();
        if (queryOf(row).includes(" < ")) expect(row.warning!, row.key).toBeGreaterThan(row.critical);
        else expect(row.warning!, row.key).toBeLessThan(row.critical);
        expect(row.action, row.key).toMatch(/\S/);
      }
    },
  );

  it("only ALB rows select on the target group; they wait for CloudWatch's delay, the others for the agent's", () => {
    for (const row of [
      ...monitorTable("alb", thresholdDefaults, 3),
      ...monitorTable("haproxy", thresholdDefaults, 3),
    ]) {
      const fromAlb = queryOf(row).includes("aws.applicationelb");
      expect(row.selects === "targetGroup", row.key).toBe(fromAlb);
      expect(row.timing.evaluationDelay, row.key).toBe(
        fromAlb ? AWS_METRIC_EVALUATION_DELAY_S : AGENT_METRIC_EVALUATION_DELAY_S,
      );
    }
  });

  it("the HAProxy flavor's p95 monitor reads the p95 levels (ms), and its name says p95", () => {
    const t = resolveThresholds({
      latencyP99CriticalSeconds: 5,
      latencyP99WarningSeconds: 4,
      latencyP95CriticalSeconds: 1.5,
      latencyP95WarningSeconds: 0.75,
    });
    const row = rowOf(monitorTable("haproxy", t, 3), "app-p95");
    expect(row.title).toContain("p95");
    expect(queryOf(row)).toBe(
      "avg(last_10m):max:app.request.duration.95percentile{service:sample-api,env:prod} > 1500",
    );
    expect([row.critical, row.warning]).toEqual([1500, 750]);
    // and the ALB flavor's p99 monitor reads the p99 levels
    expect(rowOf(monitorTable("alb", t, 3), "alb-p99")).toMatchObject({ critical: 5, warning: 4 });
  });

  it("host counts: no data alerts; one host has no warning level", () => {
    const alb = rowOf(monitorTable("alb", thresholdDefaults, 1), "healthy-hosts");
    const haproxy = rowOf(monitorTable("haproxy", thresholdDefaults, 1), "hosts-reporting");
    for (const row of [alb, haproxy]) {
      expect(row.timing).toMatchObject({ notifyNoData: true, noDataTimeframe: 30 });
      expect(row.warning).toBeUndefined();
      expect(queryOf(row)).toMatch(/ < 1$/);
    }
  });

  it("per-host rows wait 5 minutes for a new host before judging it", () => {
    for (const key of ["host-cpu", "host-memory", "host-disk", "event-loop"]) {
      const row = rowOf(monitorTable("alb", thresholdDefaults, 3), key);
      expect(queryOf(row), key).toMatch(/by \{host/);
      expect(row.timing.newGroupDelay, key).toBe(300);
    }
  });
});
