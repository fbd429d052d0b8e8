// The CloudWatch side of Observability: the alarm SNS topic with its own KMS key and e-mail subscriptions,
// and the CloudWatch alarms that publish to it. The instance refresh's auto-rollback can only read CloudWatch
// alarms, so the service's failure signals (5xx share, p99, healthy hosts) are alarms here as well as
// Datadog monitors. Every resource is a child of the Observability component (`parent`), under its name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ObservabilityThresholds, healthyHostsAlarmWindow } from "./thresholds";

/** The ALB and target group whose CloudWatch metrics the ALB flavor watches. */
export interface AlbTarget {
  /** `app/<name>/<id>` */
  loadBalancer: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` */
  targetGroup: pulumi.Input<string>;
}

/** The NLB and the HAProxy nodes' target group whose CloudWatch metrics the HAProxy flavor watches. */
export interface NlbTarget {
  /** `net/<name>/<id>` */
  loadBalancer: pulumi.Input<string>;
  /** `targetgroup/<name>/<id>` */
  targetGroup: pulumi.Input<string>;
  /** Nodes the target group must keep healthy. */
  expectedHealthy: pulumi.Input<number>;
}

export interface AlarmsInput {
  service: pulumi.Input<string>;
  env: pulumi.Input<string>;
  runbook: pulumi.Input<string>;
  thresholds: ObservabilityThresholds;
  expectedHealthyHosts: number;
  notificationEmails: pulumi.Input<string>[];
  /** ALB flavor: the 5xx-share, p99 and healthy-hosts alarms on it, which also roll back a refresh. */
  alb?: AlbTarget;
  /** HAProxy flavor: healthy and unhealthy node alarms on the NLB's target group (they notify only). */
  nlb?: NlbTarget;
  /** With it, the fleet's average-CPU alarm (it notifies, it does not roll back). */
  asgName?: pulumi.Input<string>;
  /** Time a new host has to boot and pass its load balancer's check, seconds: the healthy-hosts alarms wait longer. */
  hostBootSec: pulumi.Input<number>;
  /** Protect the topic's key; false leaves it to the parent's `protect`. */
  protectKey: boolean;
}

export interface Alarms {
  topicArn: pulumi.Output<string>;
  /** Every alarm, in creation order. */
  alarms: aws.cloudwatch.MetricAlarm[];
  /** The alarms that fail and roll back an instance refresh. */
  rollback: aws.cloudwatch.MetricAlarm[];
}

/** The alarm topic and the alarms of one service, children of `parent`, named `<name>-...`. */
export function createAlarms(name: string, a: AlarmsInput, parent: pulumi.Resource): Alarms {
  const topicArn = alarmTopic(name, a, parent);
  const actions = { alarmActions: [topicArn], okActions: [topicArn] };
  const rollback = a.alb === undefined ? [] : loadBalancerAlarms(name, a, a.alb, actions, parent);
  const alarms = [...rollback, ...(a.nlb === undefined ? [] : nodeAlarms(name, a, a.nlb, actions, parent))];
  if (a.asgName !== undefined) {
    const t = a.thresholds;
    alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-asg-cpu`,
        {
          alarmDescription: pulumi.interpolate`${a.service} (${a.env}): fleet average CPU above ${t.cpuCriticalPercent}%. Runbook: ${a.runbook}`,
          namespace: "AWS/EC2",
          metricName: "CPUUtilization",
          dimensions: { AutoScalingGroupName: a.asgName },
          statistic: "Average",
          period: 300,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: "GreaterThanThreshold",
          threshold: t.cpuCriticalPercent,
          treatMissingData: "missing",
          ...actions,
        },
        { parent },
      ),
    );
  }
  return { topicArn, alarms, rollback };
}

/**
 * CloudWatch cannot publish to a topic encrypted with the AWS managed key alias/aws/sns (its key policy does
 * not let cloudwatch.amazonaws.com use it and cannot be edited), so the topic gets its own key.
 */
function alarmTopic(name: string, a: AlarmsInput, parent: pulumi.Resource): pulumi.Output<string> {
  const identity = aws.getCallerIdentityOutput({}, { parent });
  const partition = aws.getPartitionOutput({}, { parent });
  const region = aws.getRegionOutput({}, { parent });
  const key = new aws.kms.Key(
    `${name}-alarms`,
    {
      description: pulumi.interpolate`Encrypts the alarm topic of ${a.service} (${a.env})`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi
        .all([partition.partition, identity.accountId, region.region])
        .apply(([p, accountId, r]) => alarmTopicKeyPolicy(p, accountId, r)),
    },
    // Only when asked: an explicit `protect: false` would override a protected parent's.
    a.protectKey ? { parent, protect: true } : { parent },
  );
  const topic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: key.arn }, { parent });
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
    { parent },
  );
  a.notificationEmails.forEach((email, i) => {
    new aws.sns.TopicSubscription(
      `${name}-email-${i}`,
      { topic: topic.arn, protocol: "email", endpoint: email },
      { parent },
    );
  });
  return topic.arn;
}

/**
 * The alarm topic key's policy: the account administers it (kms:*, as AWS's default, so it never becomes
 * unmanageable; publishing through IAM stays possible for the account's own tools), and CloudWatch may use it to
 * publish alarm actions, which AWS documents as kms:Decrypt and kms:GenerateDataKey* for cloudwatch.amazonaws.com
 * (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns) - only for alarms of this account and
 * region (aws:SourceAccount, aws:SourceArn: the confused-deputy guard, as AWS's key policy for a service publishing
 * to an encrypted topic shows: https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html)
 * and only for topics of this account and region (SNS asks KMS with the encryption context aws:sns:topicArn). The
 * topic's own ARN cannot be named here: the topic is created with this key.
 */
export function alarmTopicKeyPolicy(partition: string, accountId: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdmin",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: {
          StringEquals: { "aws:SourceAccount": accountId },
          ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*` },
          StringLike: { "kms:EncryptionContext:aws:sns:topicArn": `arn:${partition}:sns:${region}:${accountId}:*` },
        },
      },
    ],
  });
}

/** The ALB target group's failure signals, as alarms that also roll back an instance refresh. */
function loadBalancerAlarms(
  name: string,
  a: AlarmsInput,
  alb: AlbTarget,
  actions: { alarmActions: pulumi.Input<string>[]; okActions: pulumi.Input<string>[] },
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
  const t = a.thresholds;
  const dims = { LoadBalancer: alb.loadBalancer, TargetGroup: alb.targetGroup };
  const count = (id: string, metricName: string) => ({
    id,
    metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: dims, period: 60, stat: "Sum" },
    returnData: false,
  });
  const errors = new aws.cloudwatch.MetricAlarm(
    `${name}-5xx-share`,
    {
      alarmDescription: pulumi.interpolate`${a.service} (${a.env}): target 5xx above ${t.errorRateCritical * 100}% of requests (minutes under ${t.minRequests} requests count as 0). Runbook: ${a.runbook}`,
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
    { parent },
  );
  const latency = new aws.cloudwatch.MetricAlarm(
    `${name}-p99`,
    {
      alarmDescription: pulumi.interpolate`${a.service} (${a.env}): target p99 response time above ${t.latencyP99CriticalSeconds}s. Runbook: ${a.runbook}`,
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
    { parent },
  );
  const healthy = new aws.cloudwatch.MetricAlarm(
    `${name}-healthy-hosts`,
    {
      alarmDescription: pulumi.interpolate`${a.service} (${a.env}): fewer than ${a.expectedHealthyHosts} healthy targets. Runbook: ${a.runbook}`,
      namespace: "AWS/ApplicationELB",
      metricName: "HealthyHostCount",
      dimensions: dims,
      statistic: "Minimum",
      ...healthyWindow(a.hostBootSec),
      comparisonOperator: "LessThanThreshold",
      threshold: a.expectedHealthyHosts,
      ...actions,
    },
    { parent },
  );
  return [errors, latency, healthy];
}

/**
 * A healthy-hosts alarm's evaluation: every minute of a window longer than a host's boot below the level
 * (thresholds.ts healthyHostsAlarmWindow), and missing data left missing: a new stack's load balancer reports
 * nothing at first, which puts the alarm in INSUFFICIENT_DATA, and that state has no action here
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
 * A target group that stops reporting is caught by the Datadog hosts-reporting monitor's no-data alert.
 */
function healthyWindow(bootSec: pulumi.Input<number>) {
  const w = pulumi.output(bootSec).apply(healthyHostsAlarmWindow);
  return {
    period: 60,
    evaluationPeriods: w.evaluationPeriods,
    datapointsToAlarm: w.datapointsToAlarm,
    treatMissingData: "missing",
  };
}

/**
 * The HAProxy nodes as the NLB sees them (AWS/NetworkELB, dimensions LoadBalancer and TargetGroup:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html). A
 * node fails the NLB's check when HAProxy is down or reaches no usable service host (its health URI), so
 * "no healthy backend" shows here: fewer healthy nodes than expected, or any node unhealthy. A replaced node
 * is unhealthy while it boots, so both wait the same window as the healthy-hosts alarm.
 */
function nodeAlarms(
  name: string,
  a: AlarmsInput,
  nlb: NlbTarget,
  actions: { alarmActions: pulumi.Input<string>[]; okActions: pulumi.Input<string>[] },
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
  const common = {
    namespace: "AWS/NetworkELB",
    dimensions: { LoadBalancer: nlb.loadBalancer, TargetGroup: nlb.targetGroup },
    ...healthyWindow(a.hostBootSec),
    ...actions,
  };
  const healthy = new aws.cloudwatch.MetricAlarm(
    `${name}-nlb-healthy-nodes`,
    {
      alarmDescription: pulumi.interpolate`${a.service} (${a.env}): fewer than ${nlb.expectedHealthy} HAProxy nodes pass the NLB's check (HAProxy down, or no usable service host behind it). Runbook: ${a.runbook}`,
      metricName: "HealthyHostCount",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: nlb.expectedHealthy,
      ...common,
    },
    { parent },
  );
  const unhealthy = new aws.cloudwatch.MetricAlarm(
    `${name}-nlb-unhealthy-nodes`,
    {
      alarmDescription: pulumi.interpolate`${a.service} (${a.env}): an HAProxy node fails the NLB's check (HAProxy down, or no usable service host behind it). Runbook: ${a.runbook}`,
      metricName: "UnHealthyHostCount",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      ...common,
    },
    { parent },
  );
  return [healthy, unhealthy];
}
