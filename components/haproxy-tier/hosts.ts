// One service host of the tier (the HAProxy nodes are an Auto Scaling group, nodes.ts): hardened (_shared/hardenedInstance), detailed
// monitoring on, and placed round-robin over the private subnets.
import { encodeUserData } from "../../host/userData";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hardenedInstanceArgs } from "../_shared/hardenedInstance";

export interface TierHostArgs {
  amiId: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
  /** Host i goes to subnet i mod n, so consecutive hosts land in different AZs. */
  subnetIds: pulumi.Output<string[]>;
  securityGroupId: pulumi.Input<string>;
  instanceProfileName: pulumi.Input<string>;
  userData: pulumi.Input<string>;
  /** Ship the user-data gzipped (cloud-init unpacks it): the service hosts' cloud-config is above 16 KB as text. */
  gzipUserData?: boolean;
  rootVolumeGb: pulumi.Input<number>;
}

/** The `index`-th host of a kind; `own` adds what differs between kinds (tags, user-data handling). */
export function tierHost(
  name: string,
  index: number,
  a: TierHostArgs,
  own: Pick<aws.ec2.InstanceArgs, "tags" | "userDataReplaceOnChange">,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.Instance {
  return new aws.ec2.Instance(
    name,
    {
      ami: a.amiId,
      instanceType: a.instanceType,
      subnetId: a.subnetIds.apply((ids) => ids[index % ids.length]!),
      vpcSecurityGroupIds: [a.securityGroupId],
      iamInstanceProfile: a.instanceProfileName,
      ...(a.gzipUserData
        ? { userDataBase64: pulumi.output(a.userData).apply(encodeUserData) }
        : { userData: a.userData }),
      ...hardenedInstanceArgs({ rootVolumeGb: a.rootVolumeGb }),
      monitoring: true,
      ...own,
    },
    opts,
  );
}
