// Monitors, dashboard and alarms of one service in one environment, and (optionally) the account's Datadog
// AWS integration. This file only wires: the alert levels and their checks are in thresholds.ts, the Datadog
// monitors are the table in monitors.ts, the dashboard is dashboard.ts, the CloudWatch alarms with their
// SNS topic are alarms.ts, and the integration is its own component (components/datadog-integration).
import type { ServiceSettings } from "../../contract/service";
import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { DATADOG_AWS_ACCOUNT_ID, DatadogIntegration, defaultDatadogNamespaces } from "../datadog-integration";
import { AlbTarget, createAlarms } from "./alarms";
import { dashboardDefinition, datadogAppHost } from "./dashboard";
import { AGENT_METRIC_EVALUATION_DELAY_S, AWS_METRIC_EVALUATION_DELAY_S, monitorTable } from "./monitors";
import {
  ObservabilityThresholds,
  checkExpectedHealthyHosts,
  checkThresholds,
  resolveThresholds,
  thresholdDefaults,
} from "./thresholds";
export {
  AGENT_METRIC_EVALUATION_DELAY_S,
  AWS_METRIC_EVALUATION_DELAY_S,
  DATADOG_AWS_ACCOUNT_ID,
  ObservabilityThresholds,
};
export { checkThresholds, dashboardDefinition, datadogAppHost, defaultDatadogNamespaces, thresholdDefaults };

/** The type token Observability had before `typeToken`; its children's URNs still carry it in old stacks. */
const formerType = "node-service:observability:Observability";

export interface ObservabilityArgs {
  /**
   * Service settings (contract/service.ts); its name is the `service:` tag and DD_SERVICE. Plain, as every component
   * takes it. Required. The hosts' agent and DogStatsD metrics must carry the same `service:` and `env:` tags (the
   * user-data renders them from the same settings), or the service's monitors see nothing.
   */
  service: ServiceSettings;
  /** The environment: the `env:` tag and DD_ENV. Required. */
  env: pulumi.Input<string>;
  /** The deployed version (DD_VERSION), shown on the dashboard. Default none. */
  version?: pulumi.Input<string>;
  /** `app/<name>/<id>` of the ALB. Default none: the HAProxy flavor, without ALB monitors and alarms. */
  albArnSuffix?: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` of the service's target group; given exactly when `albArnSuffix` is. Default none. */
  targetGroupArnSuffix?: pulumi.Input<string>;
  /** `net/<name>/<id>` of the HAProxy flavor's NLB; given exactly when `nlbTargetGroupArnSuffix` is. Default none: no node alarms. */
  nlbArnSuffix?: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` of the HAProxy nodes' target group. Default none. */
  nlbTargetGroupArnSuffix?: pulumi.Input<string>;
  /** HAProxy nodes the NLB must see healthy (the node count). Default 1. */
  expectedHealthyNodes?: pulumi.Input<number>;
  /** Auto Scaling group of the fleet (Fleet.autoScalingGroupName). Default none: no ASG CPU alarm. */
  asgName?: pulumi.Input<string>;
  /**
   * Time a new host has to boot and pass its load balancer's check, seconds (the group's health check grace
   * period): the healthy-hosts alarms need a window longer than this below their level, so a new stack's first
   * boot does not page. Default 300.
   */
  hostBootSec?: pulumi.Input<number>;
  /**
   * Healthy targets the fleet must keep (its minimum size), a positive integer. Required. Plain number: it
   * decides the healthy-hosts monitor's warning and critical levels, checked before anything is created.
   */
  expectedHealthyHosts: number;
  /** Alert levels. Default `thresholdDefaults` for each level not given. Plain: checked before anything is created. */
  thresholds?: Partial<ObservabilityThresholds>;
  /**
   * E-mail addresses subscribed to the alarm topic (CloudWatch) and named in monitor messages (Datadog). Default
   * none. Plain array (of Inputs): it decides how many subscriptions exist.
   */
  notificationEmails?: pulumi.Input<string>[];
  /** Datadog notification handles without the `@`, e.g. `slack-ops`, `pagerduty-sample-api`. Default none. */
  datadogNotifyHandles?: pulumi.Input<pulumi.Input<string>[]>;
  /** Datadog site, e.g. `datadoghq.com`, `datadoghq.eu`, `us5.datadoghq.com`; used for the dashboard URL. Default `datadoghq.com`. */
  datadogSite?: pulumi.Input<string>;
  /**
   * Create the account-wide Datadog AWS integration (a DatadogIntegration child). An AWS account has exactly
   * one integration, so exactly one stack per account sets this. Default false. Plain boolean: it decides
   * whether resources exist.
   */
  createDatadogIntegration?: boolean;
  /** With `createDatadogIntegration`: the principal that assumes the integration role. Default DATADOG_AWS_ACCOUNT_ID. */
  datadogAwsAccountId?: pulumi.Input<string>;
  /** With `createDatadogIntegration`: the CloudWatch namespaces it crawls. Default defaultDatadogNamespaces. */
  datadogNamespaces?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * With `createDatadogIntegration`: the AWS regions it crawls, every region a stack of this account runs in.
   * Default this stack's region.
   */
  datadogRegions?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Without `createDatadogIntegration`: the role of the account's existing integration (made by another stack,
   * the Datadog UI or CloudFormation), reported as `integrationRoleArn`; nothing is created for it.
   * Default none. See components/datadog-integration/README.md for the deploy order.
   */
  datadogIntegrationRoleArn?: pulumi.Input<string>;
  /**
   * Where the runbook lives; monitor messages and alarm descriptions link it. Default "the README's runbook section"
   * (README.md, "What each alarm means, and what to do": a row per alarm and monitor, kept true by test/readme.test.ts).
   */
  runbookUrl?: pulumi.Input<string>;
  /**
   * Pulumi `protect` on the alarm topic's KMS key alone (the stack's `protect`): a deleted key cannot decrypt what
   * was encrypted under it, and no release replaces a key. The topic, alarms and monitors stay unprotected, as
   * later changes may replace them. Plain: a resource option. Default false (the key inherits this component's).
   */
  protectAlarmKey?: boolean;
}

/**
 * Monitors, dashboard and alarms of one service in one environment, plus (optionally) the account's
 * Datadog AWS integration.
 *
 * The Datadog side watches what a person acts on (error share, latency, healthy hosts, host CPU, memory,
 * disk, event-loop delay). The CloudWatch side watches the failure signals the instance refresh's auto-rollback
 * needs, because the refresh can only read CloudWatch alarms: their names are `rollbackAlarmNames`.
 */
export class Observability extends pulumi.ComponentResource {
  /** ARN of the SNS topic every CloudWatch alarm publishes to. Always set. */
  public readonly topicArn: pulumi.Output<string>;
  /** Names of the alarms that fail and roll back an instance refresh. Empty in the HAProxy flavor. */
  public readonly rollbackAlarmNames: pulumi.Output<string[]>;
  /** Names of every CloudWatch alarm. Empty in the HAProxy flavor without the NLB's suffixes. */
  public readonly alarmNames: pulumi.Output<string[]>;
  /** The dashboard's address on the Datadog site. Always set. */
  public readonly dashboardUrl: pulumi.Output<string>;
  /** Ids of the Datadog monitors, in table order. Always set (7 monitors). */
  public readonly monitorIds: pulumi.Output<string[]>;
  /**
   * ARN of the role Datadog's AWS integration assumes: the one created with `createDatadogIntegration`, else
   * `datadogIntegrationRoleArn`. Undefined when neither is given.
   */
  public readonly integrationRoleArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Observability"), name, {}, withFormerType(formerType, opts));
    const t = resolveThresholds(args.thresholds);
    const problems: string[] = [
      ...checkThresholds(t).map(({ field, message }) => `thresholds.${field}: ${message}`),
      ...checkExpectedHealthyHosts(args.expectedHealthyHosts).map(({ field, message }) => `${field}: ${message}`),
    ];
    if ((args.albArnSuffix === undefined) !== (args.targetGroupArnSuffix === undefined))
      problems.push("albArnSuffix and targetGroupArnSuffix: give both (ALB flavor) or neither (HAProxy flavor)");
    if ((args.nlbArnSuffix === undefined) !== (args.nlbTargetGroupArnSuffix === undefined))
      problems.push("nlbArnSuffix and nlbTargetGroupArnSuffix: give both (HAProxy flavor) or neither");
    if (args.createDatadogIntegration === true && args.datadogIntegrationRoleArn !== undefined)
      problems.push(
        "datadogIntegrationRoleArn: an existing integration's role, so createDatadogIntegration must be false",
      );
    if (args.albArnSuffix !== undefined && args.nlbArnSuffix !== undefined)
      problems.push("albArnSuffix and nlbArnSuffix: one load balancer: the ALB's suffixes or the NLB's, not both");
    // RunError: `pulumi up` prints the message alone, without a stack trace.
    if (problems.length > 0) throw new pulumi.RunError(`Observability ${name}: ${problems.join("; ")}`);

    // The flavor, decided once: the ALB's metrics watch the requests, or without an ALB the service's own.
    const alb: AlbTarget | undefined =
      args.albArnSuffix !== undefined && args.targetGroupArnSuffix !== undefined
        ? { loadBalancer: args.albArnSuffix, targetGroup: args.targetGroupArnSuffix }
        : undefined;
    const parent = { parent: this };
    const runbook = pulumi.output(args.runbookUrl ?? "the README's runbook section");

    let integrationRoleArn: pulumi.Output<string | undefined> = pulumi.output(args.datadogIntegrationRoleArn);
    if (args.createDatadogIntegration === true) {
      const integration = new DatadogIntegration(
        name,
        {
          datadogAwsAccountId: args.datadogAwsAccountId,
          datadogNamespaces: args.datadogNamespaces,
          datadogRegions: args.datadogRegions,
        },
        // Its resources were this component's own children: `this` for stacks already under the current type
        // token, the former URN for stacks last updated before it (the engine also maps `this` to it).
        { parent: this, formerParents: [this, pulumi.createUrn(name, formerType, opts?.parent)] },
      );
      integrationRoleArn = integration.roleArn;
    }

    // Datadog lower-cases tag values: the target group's tag is its ARN suffix in lower case.
    const targetGroup = alb && pulumi.output(alb.targetGroup).apply((s) => s.toLowerCase());
    const selectors = {
      service: pulumi.interpolate`service:${args.service.name},env:${args.env}`,
      targetGroup: pulumi.interpolate`targetgroup:${targetGroup ?? ""}`,
    };
    const tags = pulumi
      .all([args.env, args.service.name])
      .apply(([env, service]) => [`env:${env}`, `service:${service}`]);
    const notify = pulumi
      .all([pulumi.output(args.datadogNotifyHandles ?? []), pulumi.output(args.notificationEmails ?? [])])
      .apply(([handles, emails]) => [...handles, ...emails].map((h) => `@${h}`).join(" "));
    const monitors = monitorTable(alb ? "alb" : "haproxy", t, args.expectedHealthyHosts).map(
      (row) =>
        new datadog.Monitor(
          `${name}-${row.key}`,
          {
            name: pulumi.interpolate`[${args.service.name}][${args.env}] ${row.title}`,
            type: "query alert",
            query: selectors[row.selects].apply(row.query),
            message: pulumi.interpolate`{{#is_alert}}${row.title} is at {{value}} (critical {{threshold}}).{{/is_alert}}
{{#is_warning}}${row.title} is at {{value}} (warning {{warn_threshold}}).{{/is_warning}}
{{#is_no_data}}${row.title}: no data, the metric stopped reporting.{{/is_no_data}}
Runbook action: ${row.action} See ${runbook}.
${notify}`,
            monitorThresholds: {
              critical: String(row.critical),
              ...(row.warning === undefined ? {} : { warning: String(row.warning) }),
            },
            renotifyInterval: t.renotifyMinutes,
            renotifyStatuses: ["alert", "no data"],
            includeTags: true,
            tags,
            ...row.timing,
          },
          parent,
        ),
    );

    const dashboardJson = pulumi
      .all([args.service.name, args.env, pulumi.output(args.version ?? ""), targetGroup])
      .apply(([service, env, version, tg]) =>
        JSON.stringify(dashboardDefinition({ service, env, version, targetGroup: tg })),
      );
    const dashboard = new datadog.DashboardJson(`${name}-dashboard`, { dashboard: dashboardJson }, parent);
    const site = pulumi.output(args.datadogSite ?? "datadoghq.com");

    const cloudWatch = createAlarms(
      name,
      {
        service: args.service.name,
        env: args.env,
        runbook,
        thresholds: t,
        expectedHealthyHosts: args.expectedHealthyHosts,
        notificationEmails: args.notificationEmails ?? [],
        alb,
        asgName: args.asgName,
        hostBootSec: args.hostBootSec ?? 300,
        protectKey: args.protectAlarmKey ?? false,
        nlb:
          args.nlbArnSuffix !== undefined && args.nlbTargetGroupArnSuffix !== undefined
            ? {
                loadBalancer: args.nlbArnSuffix,
                targetGroup: args.nlbTargetGroupArnSuffix,
                expectedHealthy: args.expectedHealthyNodes ?? 1,
              }
            : undefined,
      },
      this,
    );

    this.topicArn = cloudWatch.topicArn;
    this.alarmNames = pulumi.all(cloudWatch.alarms.map((a) => a.name));
    this.rollbackAlarmNames = pulumi.all(cloudWatch.rollback.map((a) => a.name));
    // /dashboard/<id> is stable; Datadog redirects it to the titled URL.
    this.dashboardUrl = pulumi.interpolate`https://${site.apply(datadogAppHost)}/dashboard/${dashboard.id}`;
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
