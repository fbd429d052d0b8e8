// Secrets: the Datadog API key and the Papertrail destination as SSM SecureString parameters,
// encrypted with a customer managed key of this service whose key policy (rules.ts secretsKeyPolicy) lets only
// the instance roles that read them, and the operators, decrypt: through SSM, and only these parameters.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ssmParameterNames } from "../../contract/layout";
import { ServiceSettings } from "../../contract/service";
import { typeToken, withFormerType } from "../_shared/typeToken";
import { formatProblem } from "../../contract/problem";
import {
  checkPapertrailDestination,
  papertrailPortOf,
  principalArnPatterns,
  secretsKeyPolicy,
  secretsParameterPattern,
  secretsRevision,
} from "./rules";
export {
  secretsRevision,
  checkPapertrailDestination,
  papertrailPortOf,
  principalArnPatterns,
  secretsKeyPolicy,
  secretsParameterPattern,
};

export interface SecretsArgs {
  /**
   * Service settings (contract/service.ts): its name is part of the parameter names and the key alias. The hosts'
   * user-data must be rendered with the same name and env: they read `/<service>/<env>/datadog-api-key` and
   * `/<service>/<env>/papertrail-destination` (contract/layout.ts ssmParameterNames).
   */
  service: ServiceSettings;
  /** Environment name: part of the parameter names and the key alias. */
  env: pulumi.Input<string>;
  /** Pulumi secrets (config.requireSecret); wrapped again as secrets in case a caller passes plain text. */
  datadogApiKey: pulumi.Input<string>;
  /** host:port of the Papertrail log destination, as the hosts' secrets script accepts it (host/secrets.ts); a secret, like the API key. */
  papertrailDestination: pulumi.Input<string>;
  /**
   * Instance roles that read the parameters at boot (the fleet's; the HAProxy flavor's service hosts and nodes):
   * the key policy lets them decrypt through SSM, these parameters only. Default none.
   */
  readerRoleArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The IAM principals that may put the parameters' values and decrypt them through SSM (ARNs, or patterns as
   * aws:PrincipalArn matches them): whoever runs `pulumi up` (it puts each value, and the AWS provider reads a
   * SecureString back decrypted after each change and on refresh) and break-glass admins. Everyone else is denied
   * both, whatever their IAM policies say; the hosts may only decrypt. Default: the identity running the
   * deployment (aws.getCallerIdentity; an assumed role as its role ARN, with or without a path).
   */
  operatorArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** Days a deleted key waits before it is gone (7-30). Default 30. */
  keyDeletionWindowDays?: pulumi.Input<number>;
  /** Tags of the key and the parameters. Default none. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class Secrets extends pulumi.ComponentResource {
  /** ARN of the customer managed key encrypting the parameters (the instance role may decrypt with it through SSM only). */
  public readonly keyArn: pulumi.Output<string>;
  /** ARNs of both parameters: Datadog API key, then Papertrail destination. */
  public readonly parameterArns: pulumi.Output<string[]>;
  /** Name of the Datadog API key parameter (contract/layout.ts ssmParameterNames). */
  public readonly datadogApiKeyParameter: pulumi.Output<string>;
  /** Name of the Papertrail destination parameter (contract/layout.ts ssmParameterNames). */
  public readonly papertrailDestinationParameter: pulumi.Output<string>;
  /** TCP port of the Papertrail destination, a secret like it: the hosts' egress rule opens it (and only it, besides HTTPS). */
  public readonly papertrailPort: pulumi.Output<number>;
  /**
   * The parameters' versions (secretsRevision: `datadog-api-key:<n>/papertrail-destination:<n>`), no value: it
   * changes with every new value, and a fleet that boots with it replaces its hosts when it does.
   */
  public readonly revision: pulumi.Output<string>;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("Secrets"), name, {}, withFormerType("node-service:secrets:Secrets", opts));
    const window = args.keyDeletionWindowDays;
    if (typeof window === "number" && (!Number.isInteger(window) || window < 7 || window > 30))
      throw new pulumi.RunError(`Secrets ${name}: keyDeletionWindowDays: ${window} must be an integer from 7 to 30`);
    const service = args.service.name;
    const names = pulumi.output(args.env).apply((e) => ssmParameterNames(service, e));
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const operators = args.operatorArns ?? caller.arn.apply(principalArnPatterns);
    const policy = pulumi
      .all([partition, caller.accountId, region, names, args.readerRoleArns ?? [], operators])
      .apply(([p, accountId, r, n, readerRoleArns, operatorArnPatterns]) =>
        secretsKeyPolicy({
          partition: p,
          accountId,
          region: r,
          readerRoleArns,
          operatorArnPatterns,
          parameterArnPattern: secretsParameterPattern({
            partition: p,
            region: r,
            accountId,
            names: [n.datadogApiKey, n.papertrailDestination],
          }),
        }),
      );
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: pulumi.interpolate`SSM parameters of ${service} (${args.env})`,
        policy,
        enableKeyRotation: true,
        deletionWindowInDays: args.keyDeletionWindowDays ?? 30,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.kms.Alias(
      `${name}-key`,
      { name: pulumi.interpolate`alias/${service}-${args.env}-ssm`, targetKeyId: key.keyId },
      { parent: this },
    );
    const parameter = (
      suffix: string,
      paramName: pulumi.Output<string>,
      value: pulumi.Input<string>,
      description: string,
    ) =>
      new aws.ssm.Parameter(
        `${name}-${suffix}`,
        {
          // The names are a contract with the host (HELPERS.md), so they are fixed, not auto-named.
          name: paramName,
          type: "SecureString",
          keyId: key.arn,
          value: pulumi.secret(value),
          description,
          tags: args.tags,
        },
        { parent: this },
      );
    const dd = parameter(
      "datadog-api-key",
      names.datadogApiKey,
      args.datadogApiKey,
      "Datadog API key read by the agent at boot",
    );
    const pt = parameter(
      "papertrail-destination",
      names.papertrailDestination,
      args.papertrailDestination,
      "Papertrail host:port rsyslog forwards to",
    );

    this.keyArn = key.arn;
    this.parameterArns = pulumi.all([dd.arn, pt.arn]);
    this.datadogApiKeyParameter = dd.name;
    this.papertrailDestinationParameter = pt.name;
    this.revision = pulumi
      .all([dd.version, pt.version])
      .apply(([d, p]) => secretsRevision({ "datadog-api-key": d, "papertrail-destination": p }));
    this.papertrailPort = pulumi.secret(
      pulumi.output(args.papertrailDestination).apply((d) => {
        const problems = checkPapertrailDestination(d);
        if (problems.length > 0)
          throw new pulumi.RunError(`Secrets ${name}: ${problems.map(formatProblem).join("; ")}`);
        return papertrailPortOf(d);
      }),
    );
    this.registerOutputs({
      keyArn: this.keyArn,
      parameterArns: this.parameterArns,
      datadogApiKeyParameter: this.datadogApiKeyParameter,
      papertrailDestinationParameter: this.papertrailDestinationParameter,
      papertrailPort: this.papertrailPort,
      revision: this.revision,
    });
  }
}
