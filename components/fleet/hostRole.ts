// The role of a service host, in either flavor: the Fleet's launch template and the HAProxy tier's fixed
// fleet (created by the stack) both run with it.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Ec2Role, ec2Role } from "../_shared/ec2Role";
import { instancePolicy } from "./rules";

export interface ServiceHostRoleArgs {
  /** Bucket of the service bundle; the role may read only releases/* and runtimes/* in it. */
  bundleBucketArn: pulumi.Input<string>;
  /** The service's own SSM parameters. */
  parameterArns: pulumi.Input<pulumi.Input<string>[]>;
  /** The key encrypting them; decryption is allowed only through SSM. */
  kmsKeyArn: pulumi.Input<string>;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The service hosts' role and instance profile: SSM Session Manager instead of SSH, read of the bundle's
 * releases/ and runtimes/ prefixes, of the service's own parameters, and decryption of them through SSM only.
 * Resources are named `<name>-role`, `-ssm-agent`, `-service` and `-profile`.
 */
export function serviceHostRole(name: string, a: ServiceHostRoleArgs, opts: { parent?: pulumi.Resource }): Ec2Role {
  const region = aws.getRegionOutput({}, opts);
  return ec2Role(
    name,
    {
      policy: pulumi
        .all([a.bundleBucketArn, a.parameterArns, a.kmsKeyArn, region.region])
        .apply(([bundleBucketArn, parameterArns, kmsKeyArn, r]) =>
          instancePolicy({ bundleBucketArn, parameterArns, kmsKeyArn, region: r }),
        ),
      tags: a.tags,
      names: { role: `${name}-role`, policy: `${name}-service`, profile: `${name}-profile` },
    },
    opts,
  );
}
