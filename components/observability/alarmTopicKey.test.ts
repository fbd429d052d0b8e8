// The alarm topic key's policy (alarms.ts alarmTopicKeyPolicy), through the Observability component. CloudWatch
// needs kms:Decrypt and kms:GenerateDataKey* on the key of an encrypted topic it publishes alarm actions to
// (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns); SNS asks KMS with the encryption context
// aws:sns:topicArn, and AWS's own key policies for a service publishing to an encrypted topic scope it with
// aws:SourceArn and that context (https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html).
import { beforeAll, describe, expect, it } from "vitest";
import { serviceDefaults } from "../../contract/service";
import { ACCOUNT_ID, MockRecorder, runProgram, setupMocks } from "../../test/support/pulumi-mocks";
import { Observability } from "./index";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await setupMocks();
});

describe("alarm topic key", () => {
  it("the account administers it; CloudWatch may use it only for this account's alarms and this account's topics", async () => {
    await runProgram(() => ({
      url: new Observability("obs", { service: serviceDefaults, env: "prod", expectedHealthyHosts: 2 }).dashboardUrl,
    }));
    const statements = JSON.parse(mocks.one("aws:kms/key:Key").inputs.policy).Statement;
    expect(statements).toEqual([
      {
        Sid: "AccountAdmin",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
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
          StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
          ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:us-east-1:${ACCOUNT_ID}:alarm:*` },
          StringLike: { "kms:EncryptionContext:aws:sns:topicArn": `arn:aws:sns:us-east-1:${ACCOUNT_ID}:*` },
        },
      },
    ]);
  });
});

describe("protectAlarmKey", () => {
  const program = (args: { protectAlarmKey?: boolean }) => () => ({
    url: new Observability("obs", {
      service: serviceDefaults,
      env: "prod",
      expectedHealthyHosts: 2,
      notificationEmails: ["ops@example.com"],
      nlbArnSuffix: "net/nlb/1",
      nlbTargetGroupArnSuffix: "targetgroup/tg/1",
      ...args,
    }).dashboardUrl,
  });
  const protectedOnes = (options: Map<string, { protect?: boolean }>) =>
    [...options].filter(([, o]) => o.protect === true).map(([k]) => k);

  it("protects the topic's key and nothing else: the topic, its policy, subscriptions, alarms and monitors stay replaceable", async () => {
    const { options } = await runProgram(program({ protectAlarmKey: true }));
    expect(options.size).toBeGreaterThan(10);
    expect(protectedOnes(options)).toEqual(["aws:kms/key:Key::obs-alarms"]);
  });

  it("by default sets no protect of its own, so the key inherits the component's", async () => {
    const { options } = await runProgram(program({}));
    expect(protectedOnes(options)).toEqual([]);
    expect(options.get("aws:kms/key:Key::obs-alarms")?.protect).toBeUndefined();
  });
});
