// The image of every service host and HAProxy node: an official Debian AMI, never one from another owner.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { debian12NamePattern, debian12NamePatternFor, debianOwnerId } from "./rules";

/**
 * The official Debian image: by id when given (checked to be Debian's), else the newest matching amiName, for the
 * instances' architecture (the runtime the Bundle ships must match it). The default name follows the architecture.
 */
export function debianImage(
  a: { amiId?: pulumi.Input<string>; amiName?: pulumi.Input<string>; architecture?: "x64" | "arm64" },
  opts: pulumi.InvokeOutputOptions,
) {
  const arch = a.architecture ?? "x64";
  const name = pulumi
    .output(a.amiName ?? debian12NamePattern)
    .apply((n) => (n === debian12NamePattern ? debian12NamePatternFor(arch) : n));
  return aws.ec2.getAmiOutput(
    {
      owners: [debianOwnerId],
      mostRecent: true,
      // A pinned image must keep resolving after Debian or AWS deprecates it (DescribeImages hides deprecated ones).
      includeDeprecated: true,
      filters: [
        a.amiId !== undefined ? { name: "image-id", values: [a.amiId] } : { name: "name", values: [name] },
        { name: "architecture", values: [arch === "arm64" ? "arm64" : "x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
      ],
    },
    opts,
  );
}
