// The service's Datadog dashboard as Datadog's JSON (ordered layout), and the web host of a Datadog site.
// Pure (no Pulumi import), so tests read the definition directly.

/** The Datadog web host for a site: the US1, EU1 and US1-FED sites live under `app.`, the others under their own name. */
export function datadogAppHost(site: string): string {
  return ["datadoghq.com", "datadoghq.eu", "ddog-gov.com"].includes(site) ? `app.${site}` : site;
}

export interface DashboardInput {
  service: string;
  env: string;
  /** Shown in the description when not empty. */
  version: string;
  /** Lower-cased target group ARN suffix, when there is an ALB (its widgets are added). */
  targetGroup?: string;
}

/** The dashboard as Datadog's JSON (ordered layout); a pure function so tests can read it. */
export function dashboardDefinition(d: DashboardInput): Record<string, unknown> {
  const scope = `service:${d.service},env:${d.env}`;
  const series = (title: string, queries: string[], formula?: string) => ({
    definition: {
      type: "timeseries",
      title,
      show_legend: true,
      requests: [
        {
          response_format: "timeseries",
          display_type: "line",
          queries: queries.map((query, i) => ({ data_source: "metrics", name: `q${i + 1}`, query })),
          formulas: formula ? [{ formula }] : queries.map((_, i) => ({ formula: `q${i + 1}` })),
        },
      ],
    },
  });
  const widgets = [
    // The article's two lines: how many requests, and how long they take on average.
    series("Requests (count)", [`sum:app.request.count{${scope}}.as_count()`]),
    series("Request duration, average (ms)", [`avg:app.request.duration.avg{${scope}}`]),
    series(
      "Error rate (5xx share of requests)",
      [`sum:app.request.count{${scope},status_class:5xx}.as_count()`, `sum:app.request.count{${scope}}.as_count()`],
      "q1 / q2",
    ),
    series("Request duration percentiles (ms)", [
      `avg:app.request.duration.median{${scope}}`,
      `avg:app.request.duration.95percentile{${scope}}`,
      `max:app.request.duration.max{${scope}}`,
    ]),
    series("Event-loop delay p99 (ms)", [`max:app.event_loop.delay.p99{${scope}} by {host}`]),
    series("Service hosts reporting", [`max:app.event_loop.delay.p99{${scope}} by {host}`], "count_not_null(q1)"),
    series("Worker memory (bytes)", [
      `max:app.memory.rss{${scope}} by {host}`,
      `max:app.memory.heap_used{${scope}} by {host}`,
    ]),
    // Arithmetic lives in formulas: a widget query is one metric query.
    series("CPU used (%)", [`avg:system.cpu.idle{${scope}} by {host}`], "100 - q1"),
    series("Memory used (%)", [`avg:system.mem.pct_usable{${scope}} by {host}`], "100 * (1 - q1)"),
    series("Disk used (%)", [`max:system.disk.in_use{${scope}} by {host,device}`], "100 * q1"),
  ];
  if (d.targetGroup !== undefined) {
    const tg = `targetgroup:${d.targetGroup}`;
    widgets.push(
      series("ALB healthy hosts", [`sum:aws.applicationelb.healthy_host_count{${tg}}`]),
      series("ALB target latency p50 / p90 / p99 (s)", [
        `avg:aws.applicationelb.target_response_time.p50{${tg}}`,
        `avg:aws.applicationelb.target_response_time.p90{${tg}}`,
        `avg:aws.applicationelb.target_response_time.p99{${tg}}`,
      ]),
      series(
        "ALB target 5xx share",
        [
          `sum:aws.applicationelb.httpcode_target_5xx{${tg}}.as_count()`,
          `sum:aws.applicationelb.request_count{${tg}}.as_count()`,
        ],
        "q1 / q2",
      ),
    );
  }
  return {
    title: `${d.service} (${d.env})`,
    description: `Requests, errors, latency and hosts of ${d.service} in ${d.env}${d.version ? `, version ${d.version}` : ""}. Managed by Pulumi.`,
    layout_type: "ordered",
    reflow_type: "auto",
    widgets,
  };
}
