// The settings every EC2 host of this project runs with, in the two shapes AWS takes them: the instance
// metadata service answers only with a session token (IMDSv2) and only one network hop away, so nothing
// forwarded through the host reaches the role's credentials; the root volume is encrypted gp3; and the host
// gets no public IP (it reaches the internet through the NAT, and people reach it through SSM).
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** IMDSv2 only, hop limit 1. */
export const imdsV2Only = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } as const;

/**
 * The instance's own tags in its metadata, which the Datadog agent reads as host tags (collect_ec2_tags with
 * collect_ec2_tags_use_imds, host/datadog.ts). The tags are this stack's own and no secret; their keys must be
 * letters, digits and + - = . , _ : @ (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html).
 */
const tagsInMetadata = { instanceMetadataTags: "enabled" } as const;

/** The hardened part of an `aws.ec2.Instance`'s arguments. */
export function hardenedInstanceArgs(a: { rootVolumeGb: pulumi.Input<number> }) {
  return {
    metadataOptions: { ...imdsV2Only, ...tagsInMetadata },
    rootBlockDevice: { volumeType: "gp3", encrypted: true, volumeSize: a.rootVolumeGb, deleteOnTermination: true },
    associatePublicIpAddress: false,
  } satisfies Partial<aws.ec2.InstanceArgs>;
}

/** The hardened part of an `aws.ec2.LaunchTemplate`'s arguments; the network interface carries the security groups. */
export function hardenedLaunchTemplateArgs(a: {
  rootVolumeGb: pulumi.Input<number>;
  /** Device name of the image's root volume (getAmi's rootDeviceName). */
  rootDeviceName: pulumi.Input<string>;
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
}) {
  return {
    metadataOptions: { ...imdsV2Only, ...tagsInMetadata },
    networkInterfaces: [
      {
        deviceIndex: 0,
        associatePublicIpAddress: "false",
        deleteOnTermination: "true",
        securityGroups: a.securityGroupIds,
      },
    ],
    blockDeviceMappings: [
      {
        deviceName: a.rootDeviceName,
        ebs: { volumeType: "gp3", volumeSize: a.rootVolumeGb, encrypted: "true", deleteOnTermination: "true" },
      },
    ],
  } satisfies Partial<aws.ec2.LaunchTemplateArgs>;
}
