// The Datadog AWS integration of one AWS account: the IAM role Datadog's account assumes (with an external
// id) to read CloudWatch metrics and resource tags, and the integration that points Datadog at it. An
// account has exactly one integration, so exactly one stack per account creates this, not one per service;
// README.md says which one, in what order, and how the others reuse it.
import * as aws from "@pulumi/aws";
import * as datadog from "@pulumi/datadog";
import * as pulumi from "@pulumi/pulumi";
import { typeToken } from "../_shared/typeToken";

/**
 * Datadog's own AWS account, the principal its AWS integration assumes the role from
 * (commercial sites; the US1-FED/gov sites document another account: pass it in `datadogAwsAccountId`).
 */
export const DATADOG_AWS_ACCOUNT_ID = "464622532012";

export const defaultDatadogNamespaces = [
  "AWS/ApplicationELB",
  "AWS/NetworkELB",
  "AWS/EC2",
  "AWS/AutoScaling",
  "AWS/EBS",
];

export interface DatadogIntegrationArgs {
  /** Principal that assumes the integration role. Default DATADOG_AWS_ACCOUNT_ID (Datadog's commercial sites). */
  datadogAwsAccountId?: pulumi.Input<string>;
  /** CloudWatch namespaces the integration crawls (fewer namespaces, fewer CloudWatch API calls). Default defaultDatadogNamespaces. */
  datadogNamespaces?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * AWS regions the integration crawls: every region any stack of this account runs in, since the account has
   * this one integration (README.md). Default the region of the stack that creates it.
   */
  datadogRegions?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface DatadogIntegrationOptions extends pulumi.ComponentResourceOptions {
  /**
   * Parents these resources had before they had a component of their own: until DatadogIntegration existed,
   * Observability created them as its own children. Each child gets an alias per entry, so a stack created
   * then keeps them (a changed URN is a delete and a create). Default none.
   */
  formerParents?: (pulumi.Resource | pulumi.Input<pulumi.URN>)[];
}

/** The account-wide Datadog AWS integration (metrics and tags only: no resource collection, no CSPM). */
export class DatadogIntegration extends pulumi.ComponentResource {
  /** ARN of the role Datadog assumes. Always set. */
  public readonly roleArn: pulumi.Output<string>;
  /** Datadog's id of the AWS account integration. Always set. */
  public readonly integrationId: pulumi.Output<string>;

  constructor(name: string, args: DatadogIntegrationArgs, opts?: DatadogIntegrationOptions) {
    const { formerParents = [], ...componentOpts } = opts ?? {};
    super(typeToken("DatadogIntegration"), name, {}, componentOpts);
    const child = { parent: this, aliases: formerParents.map((parent) => ({ parent })) };
    const lookup = { parent: this };

    const externalId = new datadog.aws.IntegrationExternalId(`${name}-dd-external-id`, {}, child);
    const partition = aws.getPartitionOutput({}, lookup);
    const role = new aws.iam.Role(
      `${name}-dd-integration`,
      {
        description: "Assumed by Datadog's AWS integration to read CloudWatch metrics and resource tags",
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: {
                AWS: pulumi.interpolate`arn:${partition.partition}:iam::${args.datadogAwsAccountId ?? DATADOG_AWS_ACCOUNT_ID}:root`,
              },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": externalId.id } },
            },
          ],
        }),
        maxSessionDuration: 3600,
      },
      child,
    );
    // The standard list is Datadog's minimum for metric and tag collection (no resource collection / CSPM,
    // which would need SecurityAudit); it is read-only and fits one inline policy.
    const permissions = datadog.aws.getIntegrationIamPermissionsStandardOutput(lookup);
    const policy = new aws.iam.RolePolicy(
      `${name}-dd-integration`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: permissions.iamPermissions, Resource: "*" }],
        }),
      },
      child,
    );
    const identity = aws.getCallerIdentityOutput({}, lookup);
    const region = aws.getRegionOutput({}, lookup);
    const integration = new datadog.aws.IntegrationAccount(
      `${name}-dd-aws`,
      {
        awsAccountId: identity.accountId,
        awsPartition: partition.partition,
        authConfig: { awsAuthConfigRole: { roleName: role.name, externalId: externalId.id } },
        awsRegions: { includeOnlies: args.datadogRegions ?? [region.region] },
        metricsConfig: {
          namespaceFilters: { includeOnlies: args.datadogNamespaces ?? defaultDatadogNamespaces },
          automuteEnabled: true,
          collectCloudwatchAlarms: true,
        },
        resourcesConfig: { extendedCollection: false, cloudSecurityPostureManagementCollection: false },
        logsConfig: { lambdaForwarder: {} },
        tracesConfig: { xrayServices: {} },
      },
      { ...child, dependsOn: [policy] },
    );

    this.roleArn = role.arn;
    this.integrationId = integration.id;
    this.registerOutputs({ roleArn: this.roleArn, integrationId: this.integrationId });
  }
}
