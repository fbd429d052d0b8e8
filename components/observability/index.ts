import * as pulumi from "@pulumi/pulumi";
import { typeToken, withFormerType } from "../_shared/typeToken";
import * as aws from "@pulumi/aws";
import * as datadog from "@pulumi/datadog";
import { dashboardDefinition, datadogAppHost } from "./dashboard";
import { ObservabilityThresholds, checkExpectedHealthyHosts, checkThresholds, healthyHostLevels, resolveThresholds, thresholdDefaults } from "./thresholds";
export { ObservabilityThresholds, checkThresholds, dashboardDefinition, datadogAppHost, thresholdDefaults };

/**
 * Datadog's own AWS account, the principal its AWS integration assumes the role from
 * (commercial sites; the US1-FED/gov sites document another account: pass it in `datadogAwsAccountId`).
 */
export const DATADOG_AWS_ACCOUNT_ID = "464622532012";

/**
 * CloudWatch metrics reach Datadog through its crawler 10-20 minutes late (Datadog's "Cloud Metric Delay" guide),
 * so monitors on them look 15 minutes back; agent and DogStatsD metrics arrive within seconds.
 */
export const AWS_METRIC_EVALUATION_DELAY_S = 900;
export const AGENT_METRIC_EVALUATION_DELAY_S = 60;

export interface ObservabilityArgs {
  /** ServiceSettings.name: the `service:` tag and DD_SERVICE. */
  service: pulumi.Input<string>;
  env: pulumi.Input<string>;
  /** The deployed version (DD_VERSION), shown on the dashboard. */
  version?: pulumi.Input<string>;
  /** `app/<name>/<id>` of the ALB; without it (HAProxy flavor) the ALB monitors and alarms are skipped. */
  albArnSuffix?: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` of the service's target group; needed with `albArnSuffix`. */
  targetGroupArnSuffix?: pulumi.Input<string>;
  /** Auto Scaling group of the fleet; without it the ASG CPU alarm is skipped. */
  asgName?: pulumi.Input<string>;
  /**
   * Healthy targets the fleet must keep (its minimum size). Plain number: it decides the healthy-hosts
   * monitor's warning and critical levels.
   */
  expectedHealthyHosts: number;
  thresholds?: Partial<ObservabilityThresholds>;
  /** E-mail addresses subscribed to the alarm topic (CloudWatch) and named in monitor messages (Datadog). */
  notificationEmails?: pulumi.Input<string>[];
  /** Datadog notification handles without the `@`, e.g. `slack-ops`, `pagerduty-sample-api`. */
  datadogNotifyHandles?: pulumi.Input<string>[];
  /** Datadog site, e.g. `datadoghq.com`, `datadoghq.eu`, `us5.datadoghq.com`; used for the dashboard URL. */
  datadogSite?: pulumi.Input<string>;
  /**
   * Create the account-wide Datadog AWS integration and its IAM role. An AWS account has exactly one
   * integration, so exactly one stack per account sets this (default false). Plain boolean: it decides
   * whether resources exist.
   */
  createDatadogIntegration?: boolean;
  /** Principal that assumes the integration role; default Datadog's commercial account. */
  datadogAwsAccountId?: pulumi.Input<string>;
  /** CloudWatch namespaces the integration crawls (fewer namespaces, fewer CloudWatch API calls). */
  datadogNamespaces?: pulumi.Input<string>[];
  /** Where the runbook lives; monitor messages link it. */
  runbookUrl?: pulumi.Input<string>;
}

export const defaultDatadogNamespaces = ["AWS/ApplicationELB", "AWS/NetworkELB", "AWS/EC2", "AWS/AutoScaling", "AWS/EBS"];

/**
 * Monitors, dashboard and alarms of one service in one environment, plus (optionally) the account's
 * Datadog AWS integration.
 *
 * The Datadog side watches what a person acts on (error share, p99 latency, healthy hosts, host CPU, memory,
 * disk, event-loop delay). The CloudWatch side watches the failure signals the instance refresh's auto-rollback
 * needs, because the refresh can only read CloudWatch alarms: their names are `rollbackAlarmNames`.
 */
export class Observability extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;
  public readonly rollbackAlarmNames: pulumi.Output<string[]>;
  public readonly alarmNames: pulumi.Output<string[]>;
  public readonly dashboardUrl: pulumi.Output<string>;
  public readonly monitorIds: pulumi.Output<string[]>;
  public readonly integrationRoleArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Observability"), name, {}, withFormerType("node-service:observability:Observability", opts));
    const t = resolveThresholds(args.thresholds);
    const problems: string[] = [
      ...checkThresholds(t).map(({ field, message }) => `thresholds.${field}: ${message}`),
      ...checkExpectedHealthyHosts(args.expectedHealthyHosts).map(({ field, message }) => `${field}: ${message}`),
    ];
    if ((args.albArnSuffix === undefined) !== (args.targetGroupArnSuffix === undefined))
      problems.push("albArnSuffix and targetGroupArnSuffix: give both (ALB flavor) or neither (HAProxy flavor)");
    if (problems.length > 0) throw new Error(`Observability ${name}: ${problems.join("; ")}`);

    const parent = { parent: this };
    const hasAlb = args.albArnSuffix !== undefined && args.targetGroupArnSuffix !== undefined;
    const site = pulumi.output(args.datadogSite ?? "datadoghq.com");
    const runbook = pulumi.output(args.runbookUrl ?? "the README's runbook section");
    const tags = pulumi.all([args.env, args.service]).apply(([env, service]) => [`env:${env}`, `service:${service}`]);
    const scope = pulumi.interpolate`service:${args.service},env:${args.env}`;
    const notify = pulumi
      .all([pulumi.output(args.datadogNotifyHandles ?? []), pulumi.output(args.notificationEmails ?? [])])
      .apply(([handles, emails]) => [...handles, ...emails].map((h) => `@${h}`).join(" "));

    // ---------------------------------------------------------------- Datadog AWS integration (one per account)
    let integrationRoleArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (args.createDatadogIntegration === true) {
      const externalId = new datadog.aws.IntegrationExternalId(`${name}-dd-external-id`, {}, parent);
      const role = new aws.iam.Role(
        `${name}-dd-integration`,
        {
          description: "Assumed by Datadog's AWS integration to read CloudWatch metrics and resource tags",
          assumeRolePolicy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: pulumi.interpolate`arn:aws:iam::${args.datadogAwsAccountId ?? DATADOG_AWS_ACCOUNT_ID}:root` },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "sts:ExternalId": externalId.id } },
              },
            ],
          }),
          maxSessionDuration: 3600,
        },
        parent,
      );
      // The standard list is Datadog's minimum for metric and tag collection (no resource collection / CSPM,
      // which would need SecurityAudit); it is read-only and fits one inline policy.
      const permissions = datadog.aws.getIntegrationIamPermissionsStandardOutput(parent);
      const policy = new aws.iam.RolePolicy(
        `${name}-dd-integration`,
        {
          role: role.id,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: permissions.iamPermissions, Resource: "*" }],
          }),
        },
        parent,
      );
      const identity = aws.getCallerIdentityOutput({}, parent);
      const partition = aws.getPartitionOutput({}, parent);
      const region = aws.getRegionOutput({}, parent);
      new datadog.aws.IntegrationAccount(
        `${name}-dd-aws`,
        {
          awsAccountId: identity.accountId,
          awsPartition: partition.partition,
          authConfig: { awsAuthConfigRole: { roleName: role.name, externalId: externalId.id } },
          awsRegions: { includeOnlies: [region.region] },
          metricsConfig: {
            namespaceFilters: { includeOnlies: args.datadogNamespaces ?? defaultDatadogNamespaces },
            automuteEnabled: true,
            collectCloudwatchAlarms: true,
          },
          resourcesConfig: { extendedCollection: false, cloudSecurityPostureManagementCollection: false },
          logsConfig: { lambdaForwarder: {} },
          tracesConfig: { xrayServices: {} },
        },
        { parent: this, dependsOn: [policy] },
      );
      integrationRoleArn = role.arn;
    }

    // ---------------------------------------------------------------- Datadog monitors
    const monitors: datadog.Monitor[] = [];
    const monitor = (
      key: string,
      title: string,
      query: pulumi.Input<string>,
      critical: pulumi.Input<number>,
      warning: pulumi.Input<number> | undefined,
      action: string,
      extra: Partial<datadog.MonitorArgs>,
    ) => {
      const m = new datadog.Monitor(
        `${name}-${key}`,
        {
          name: pulumi.interpolate`[${args.service}][${args.env}] ${title}`,
          type: "query alert",
          query,
          message: pulumi.interpolate`{{#is_alert}}${title} is at {{value}} (critical {{threshold}}).{{/is_alert}}
{{#is_warning}}${title} is at {{value}} (warning {{warn_threshold}}).{{/is_warning}}
{{#is_no_data}}${title}: no data, the metric stopped reporting.{{/is_no_data}}
Runbook action: ${action} See ${runbook}.
${notify}`,
          monitorThresholds: {
            critical: pulumi.output(critical).apply(String),
            ...(warning === undefined ? {} : { warning: pulumi.output(warning).apply(String) }),
          },
          renotifyInterval: t.renotifyMinutes,
          renotifyStatuses: ["alert", "no data"],
          includeTags: true,
          tags,
          ...extra,
        },
        parent,
      );
      monitors.push(m);
    };

    if (hasAlb) {
      const tg = pulumi.output(args.targetGroupArnSuffix!).apply((s) => `targetgroup:${s.toLowerCase()}`);
      // 5xx share of requests over 10 minutes of per-minute points, each minute's denominator at least
      // minRequests (low traffic cannot page). With as_count() Datadog sums numerator and denominator over the
      // window before dividing. default_zero: CloudWatch sends no 5xx point for a minute without errors.
      monitor(
        "alb-5xx",
        "ALB target 5xx share",
        pulumi.interpolate`sum(last_10m):default_zero(sum:aws.applicationelb.httpcode_target_5xx{${tg}}.as_count().rollup(sum, 60)) / clamp_min(default_zero(sum:aws.applicationelb.request_count{${tg}}.as_count().rollup(sum, 60)), ${t.minRequests}) > ${t.errorRateCritical}`,
        t.errorRateCritical,
        t.errorRateWarning,
        "Check the service log for the failing route; if a deploy is rolling, the instance refresh rolls back on its own, otherwise roll back to the previous bundle.",
        { evaluationDelay: AWS_METRIC_EVALUATION_DELAY_S, requireFullWindow: false, notifyNoData: false },
      );
      monitor(
        "alb-p99",
        "ALB target p99 latency (s)",
        pulumi.interpolate`avg(last_10m):avg:aws.applicationelb.target_response_time.p99{${tg}} > ${t.latencyP99CriticalSeconds}`,
        t.latencyP99CriticalSeconds,
        t.latencyP99WarningSeconds,
        "Look at event-loop delay and CPU per host on the dashboard; scale out if every host is busy, else find the slow route in the request log.",
        { evaluationDelay: AWS_METRIC_EVALUATION_DELAY_S, requireFullWindow: false, notifyNoData: false },
      );
      const hosts = healthyHostLevels(args.expectedHealthyHosts);
      monitor(
        "healthy-hosts",
        "ALB healthy hosts",
        pulumi.interpolate`min(last_10m):sum:aws.applicationelb.healthy_host_count{${tg}} < ${hosts.critical}`,
        hosts.critical,
        hosts.warning,
        "Open the target group's health in the console; read the unhealthy host's service log (`journalctl -u <service>`) over SSM Session Manager; the ASG replaces hosts that stay unhealthy.",
        {
          evaluationDelay: AWS_METRIC_EVALUATION_DELAY_S,
          requireFullWindow: false,
          notifyNoData: true,
          noDataTimeframe: 30,
        },
      );
    }
    if (!hasAlb) {
      // No ALB metrics (HAProxy flavor): the same signals from the service's own DogStatsD metrics.
      const appDelay = { evaluationDelay: AGENT_METRIC_EVALUATION_DELAY_S, requireFullWindow: false };
      monitor(
        "app-5xx",
        "Service 5xx share",
        pulumi.interpolate`sum(last_10m):default_zero(sum:app.request.count{${scope},status_class:5xx}.as_count().rollup(sum, 60)) / clamp_min(default_zero(sum:app.request.count{${scope}}.as_count().rollup(sum, 60)), ${t.minRequests}) > ${t.errorRateCritical}`,
        t.errorRateCritical,
        t.errorRateWarning,
        "Check the service log for the failing route; if a rollout is running, it stops at the first host that does not get ready; otherwise roll back to the previous bundle.",
        { ...appDelay, notifyNoData: false },
      );
      monitor(
        "app-p95",
        "Service p95 request duration (ms)",
        pulumi.interpolate`avg(last_10m):max:app.request.duration.95percentile{${scope}} > ${t.latencyP99CriticalSeconds * 1000}`,
        t.latencyP99CriticalSeconds * 1000,
        t.latencyP99WarningSeconds * 1000,
        "Look at event-loop delay and CPU per host on the dashboard; add hosts if every host is busy, else find the slow route in the request log.",
        { ...appDelay, notifyNoData: false },
      );
      const hosts = healthyHostLevels(args.expectedHealthyHosts);
      // Every running service host sends its event-loop gauge every few seconds: hosts that stop are missing hosts.
      monitor(
        "hosts-reporting",
        "Service hosts reporting",
        pulumi.interpolate`min(last_10m):count_not_null(max:app.event_loop.delay.p99{${scope}} by {host}) < ${hosts.critical}`,
        hosts.critical,
        hosts.warning,
        "Find the silent host (`systemctl status <service>` over SSM Session Manager); the service restarts itself, a host that stays down needs replacing.",
        { ...appDelay, notifyNoData: true, noDataTimeframe: 30 },
      );
    }
    const hostDelay = { evaluationDelay: AGENT_METRIC_EVALUATION_DELAY_S, newGroupDelay: 300, notifyNoData: false, requireFullWindow: false };
    monitor(
      "host-cpu",
      "Host CPU used (%)",
      pulumi.interpolate`avg(last_10m):100 - avg:system.cpu.idle{${scope}} by {host} > ${t.cpuCriticalPercent}`,
      t.cpuCriticalPercent,
      t.cpuWarningPercent,
      "If all hosts are hot, raise the fleet's desired capacity; if one is, look for a hot loop in its service log and replace the host.",
      hostDelay,
    );
    monitor(
      "host-memory",
      "Host memory used (%)",
      pulumi.interpolate`avg(last_10m):100 * (1 - avg:system.mem.pct_usable{${scope}} by {host}) > ${t.memoryCriticalPercent}`,
      t.memoryCriticalPercent,
      t.memoryWarningPercent,
      "Compare worker RSS/heap on the dashboard; a steady climb is a leak: restart the service on that host and open a bug.",
      hostDelay,
    );
    monitor(
      "host-disk",
      "Host disk used (%)",
      pulumi.interpolate`max(last_10m):100 * max:system.disk.in_use{${scope}} by {host,device} > ${t.diskCriticalPercent}`,
      t.diskCriticalPercent,
      t.diskWarningPercent,
      "Check /var/log and old releases under /opt; logrotate and release pruning should keep it flat.",
      hostDelay,
    );
    monitor(
      "event-loop",
      "Event-loop delay p99 (ms)",
      pulumi.interpolate`avg(last_10m):max:app.event_loop.delay.p99{${scope}} by {host} > ${t.eventLoopDelayCriticalMs}`,
      t.eventLoopDelayCriticalMs,
      t.eventLoopDelayWarningMs,
      "Something blocks the event loop (sync I/O, big JSON, CPU work): find the route in the request log with the longest durations on that host.",
      hostDelay,
    );

    // ---------------------------------------------------------------- Datadog dashboard
    const dashboardJson = pulumi
      .all([args.service, args.env, pulumi.output(args.version ?? ""), pulumi.output(args.targetGroupArnSuffix ?? "")])
      .apply(([service, env, version, tgSuffix]) =>
        JSON.stringify(dashboardDefinition({ service, env, version, targetGroup: hasAlb ? tgSuffix.toLowerCase() : undefined })),
      );
    const dashboard = new datadog.DashboardJson(`${name}-dashboard`, { dashboard: dashboardJson }, parent);
    // /dashboard/<id> is stable; Datadog redirects it to the titled URL.
    this.dashboardUrl = pulumi.interpolate`https://${site.apply(datadogAppHost)}/dashboard/${dashboard.id}`;

    // ---------------------------------------------------------------- CloudWatch alarms -> SNS
    // CloudWatch cannot publish to a topic encrypted with the AWS managed key alias/aws/sns (its key policy
    // does not let cloudwatch.amazonaws.com use it and cannot be edited), so the topic gets its own key.
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const region = aws.getRegionOutput({}, parent);
    const key = new aws.kms.Key(
      `${name}-alarms`,
      {
        description: pulumi.interpolate`Encrypts the alarm topic of ${args.service} (${args.env})`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdmin",
              Effect: "Allow",
              Principal: { AWS: pulumi.interpolate`arn:${partition.partition}:iam::${identity.accountId}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "CloudWatchAlarmsPublish",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": identity.accountId } },
            },
          ],
        }),
      },
      parent,
    );
    const topic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: key.arn }, parent);
    new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: topic.arn,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudWatchAlarmsOfThisAccount",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: "sns:Publish",
              Resource: topic.arn,
              Condition: {
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:${partition.partition}:cloudwatch:${region.region}:${identity.accountId}:alarm:*`,
                },
              },
            },
          ],
        }),
      },
      parent,
    );
    (args.notificationEmails ?? []).forEach((email, i) => {
      new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: topic.arn, protocol: "email", endpoint: email }, parent);
    });

    const actions = { alarmActions: [topic.arn], okActions: [topic.arn] };
    const alarms: aws.cloudwatch.MetricAlarm[] = [];
    const rollback: aws.cloudwatch.MetricAlarm[] = [];
    if (hasAlb) {
      const dims = { LoadBalancer: args.albArnSuffix!, TargetGroup: args.targetGroupArnSuffix! };
      const count = (id: string, metricName: string) => ({
        id,
        metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: dims, period: 60, stat: "Sum" },
        returnData: false,
      });
      const errors = new aws.cloudwatch.MetricAlarm(
        `${name}-5xx-share`,
        {
          alarmDescription: pulumi.interpolate`${args.service} (${args.env}): target 5xx above ${t.errorRateCritical * 100}% of requests (minutes under ${t.minRequests} requests count as 0). Runbook: ${runbook}`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: t.errorRateCritical * 100,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: "notBreaching",
          metricQueries: [
            count("errors", "HTTPCode_Target_5XX_Count"),
            count("requests", "RequestCount"),
            {
              id: "share",
              label: "5xx % of requests",
              expression: `IF(FILL(requests, 0) >= ${t.minRequests}, 100 * FILL(errors, 0) / requests, 0)`,
              returnData: true,
            },
          ],
          ...actions,
        },
        parent,
      );
      const latency = new aws.cloudwatch.MetricAlarm(
        `${name}-p99`,
        {
          alarmDescription: pulumi.interpolate`${args.service} (${args.env}): target p99 response time above ${t.latencyP99CriticalSeconds}s. Runbook: ${runbook}`,
          namespace: "AWS/ApplicationELB",
          metricName: "TargetResponseTime",
          dimensions: dims,
          extendedStatistic: "p99",
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: "GreaterThanThreshold",
          threshold: t.latencyP99CriticalSeconds,
          treatMissingData: "notBreaching",
          evaluateLowSampleCountPercentiles: "ignore",
          ...actions,
        },
        parent,
      );
      const healthy = new aws.cloudwatch.MetricAlarm(
        `${name}-healthy-hosts`,
        {
          alarmDescription: pulumi.interpolate`${args.service} (${args.env}): fewer than ${args.expectedHealthyHosts} healthy targets. Runbook: ${runbook}`,
          namespace: "AWS/ApplicationELB",
          metricName: "HealthyHostCount",
          dimensions: dims,
          statistic: "Minimum",
          period: 60,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
          comparisonOperator: "LessThanThreshold",
          threshold: args.expectedHealthyHosts,
          // No data means the target group or its metrics are gone: that is an outage, not quiet.
          treatMissingData: "breaching",
          ...actions,
        },
        parent,
      );
      alarms.push(errors, latency, healthy);
      rollback.push(errors, latency, healthy);
    }
    if (args.asgName !== undefined) {
      alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-asg-cpu`,
          {
            alarmDescription: pulumi.interpolate`${args.service} (${args.env}): fleet average CPU above ${t.cpuCriticalPercent}%. Runbook: ${runbook}`,
            namespace: "AWS/EC2",
            metricName: "CPUUtilization",
            dimensions: { AutoScalingGroupName: args.asgName },
            statistic: "Average",
            period: 300,
            evaluationPeriods: 3,
            datapointsToAlarm: 2,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.cpuCriticalPercent,
            treatMissingData: "missing",
            ...actions,
          },
          parent,
        ),
      );
    }

    this.topicArn = topic.arn;
    this.alarmNames = pulumi.all(alarms.map((a) => a.name));
    this.rollbackAlarmNames = pulumi.all(rollback.map((a) => a.name));
    this.monitorIds = pulumi.all(monitors.map((m) => m.id));
    this.integrationRoleArn = integrationRoleArn;
    this.registerOutputs({
      topicArn: this.topicArn,
      alarmNames: this.alarmNames,
      rollbackAlarmNames: this.rollbackAlarmNames,
      dashboardUrl: this.dashboardUrl,
      monitorIds: this.monitorIds,
      integrationRoleArn: this.integrationRoleArn,
    });
  }
}
