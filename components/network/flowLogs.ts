// VPC flow logs (security review F9; Security Hub EC2.6, CIS 3.9): every accepted and rejected flow of the VPC
// to a CloudWatch Logs group with a retention, through a role only the flow logs service of this account may
// assume, for flow logs of this account and region (the confused-deputy conditions and the permissions AWS
// documents: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface FlowLogsArgs {
  vpcId: pulumi.Input<string>;
  retentionDays: pulumi.Input<number>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
}

/** The log group, role, role policy and flow log, all named `<name>-flow-logs`. */
export function flowLogs(name: string, a: FlowLogsArgs, parent: pulumi.Resource): aws.ec2.FlowLog {
  const opts = { parent };
  const n = `${name}-flow-logs`;
  const p = aws.getPartitionOutput({}, opts).partition;
  const region = aws.getRegionOutput({}, opts).region;
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  const group = new aws.cloudwatch.LogGroup(n, { retentionInDays: a.retentionDays, tags: a.tags }, opts);
  const role = new aws.iam.Role(
    n,
    {
      description: pulumi.interpolate`VPC flow logs of ${a.vpcId} to CloudWatch Logs`,
      assumeRolePolicy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: { "aws:SourceAccount": account },
              ArnLike: { "aws:SourceArn": pulumi.interpolate`arn:${p}:ec2:${region}:${account}:vpc-flow-log/*` },
            },
          },
        ],
      }),
      tags: a.tags,
    },
    opts,
  );
  new aws.iam.RolePolicy(
    n,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "WriteFlowLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [group.arn, pulumi.interpolate`${group.arn}:*`],
          },
          {
            Sid: "FindTheGroup",
            Effect: "Allow",
            Action: ["logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            Resource: "*",
          },
        ],
      }),
    },
    opts,
  );
  return new aws.ec2.FlowLog(
    n,
    {
      vpcId: a.vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: a.tags,
    },
    opts,
  );
}
