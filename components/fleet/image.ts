// The image of every service host and HAProxy node: an official Debian AMI, never one from another owner.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { debian12NamePattern, debianOwnerId } from "./rules";

/** The official Debian image: by id when given (checked to be Debian's), else the newest matching amiName. */
export function debianImage(
  a: { amiId?: pulumi.Input<string>; amiName?: pulumi.Input<string> },
  opts: pulumi.InvokeOutputOptions,
) {
  return aws.ec2.getAmiOutput(
    {
      owners: [debianOwnerId],
      mostRecent: true,
      // A pinned image must keep resolving after Debian or AWS deprecates it (DescribeImages hides deprecated ones).
      includeDeprecated: true,
      filters: [
        a.amiId !== undefined
          ? { name: "image-id", values: [a.amiId] }
          : { name: "name", values: [a.amiName ?? debian12NamePattern] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
      ],
    },
    opts,
  );
}
