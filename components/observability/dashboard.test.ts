import { describe, expect, it } from "vitest";
import { dashboardDefinition, datadogAppHost } from "./dashboard";

type Widget = {
  definition: { title: string; requests: { queries: { query: string }[]; formulas: { formula: string }[] }[] };
};
const widgets = (d: Record<string, unknown>) => d.widgets as Widget[];
const titles = (d: Record<string, unknown>) => widgets(d).map((w) => w.definition.title);
const request = (d: Record<string, unknown>, title: string) =>
  widgets(d).find((w) => w.definition.title === title)!.definition.requests[0]!;

describe("dashboard definition", () => {
  const alb = dashboardDefinition({
    service: "sample-api",
    env: "prod",
    version: "v42",
    targetGroup: "targetgroup/sample-tg/73e2d6bc24d8a067",
  });
  const haproxy = dashboardDefinition({ service: "sample-api", env: "dev", version: "" });

  it("has the article's two lines, error rate, percentiles, event loop and OS metrics, scoped to the service", () => {
    expect(request(haproxy, "Requests (count)").queries.map((q) => q.query)).toEqual([
      "sum:app.request.count{service:sample-api,env:dev}.as_count()",
    ]);
    expect(request(haproxy, "Request duration, average (ms)").queries[0]!.query).toContain("app.request.duration");
    for (const t of [
      "Error rate (5xx share of requests)",
      "Request duration percentiles (ms)",
      "CPU used (%)",
      "Memory used (%)",
      "Disk used (%)",
      "Event-loop delay p99 (ms)",
    ])
      expect(titles(haproxy)).toContain(t);
    for (const w of widgets(haproxy))
      for (const q of w.definition.requests[0]!.queries) expect(q.query).toContain("{service:sample-api,env:dev");
    expect(haproxy.layout_type).toBe("ordered");
  });

  it("arithmetic lives in formulas over single-metric queries", () => {
    expect(request(haproxy, "Error rate (5xx share of requests)").formulas).toEqual([{ formula: "q1 / q2" }]);
    expect(request(haproxy, "CPU used (%)").formulas).toEqual([{ formula: "100 - q1" }]);
    expect(request(haproxy, "Requests (count)").formulas).toEqual([{ formula: "q1" }]);
  });

  it("adds the ALB widgets only with a target group", () => {
    const albOnly = ["ALB healthy hosts", "ALB target latency p50 / p90 / p99 (s)", "ALB target 5xx share"];
    expect(titles(alb)).toEqual([...titles(haproxy), ...albOnly]);
    expect(request(alb, "ALB healthy hosts").queries[0]!.query).toBe(
      "sum:aws.applicationelb.healthy_host_count{targetgroup:targetgroup/sample-tg/73e2d6bc24d8a067}",
    );
  });

  it("titles the dashboard by service and env; the version shows only when known", () => {
    expect(alb).toMatchObject({ title: "sample-api (prod)" });
    expect(alb.description).toContain("version v42");
    expect(haproxy.description).not.toContain("version");
  });

  it.each([
    ["datadoghq.com", "app.datadoghq.com"],
    ["datadoghq.eu", "app.datadoghq.eu"],
    ["ddog-gov.com", "app.ddog-gov.com"],
    ["us5.datadoghq.com", "us5.datadoghq.com"],
    ["ap1.datadoghq.com", "ap1.datadoghq.com"],
  ])("web host of site %s is %s", (site, host) => {
    expect(datadogAppHost(site)).toBe(host);
  });
});
