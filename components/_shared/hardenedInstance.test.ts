import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../test/support/pulumi-mocks";
import { useMocks } from "../../test/support/useMocks";
import { hardenedInstanceArgs, hardenedLaunchTemplateArgs } from "./hardenedInstance";

const mocks = useMocks();

describe("hardened instance settings", () => {
  it("instance shape: IMDSv2 with hop limit 1, encrypted gp3 root, no public IP", async () => {
    await runProgram(() => ({
      id: new aws.ec2.Instance("i", {
        ami: "ami-1",
        instanceType: "t3.small",
        ...hardenedInstanceArgs({ rootVolumeGb: 16 }),
      }).id,
    }));
    expect(mocks.one("aws:ec2/instance:Instance").inputs).toMatchObject({
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "enabled",
      },
      rootBlockDevice: { volumeType: "gp3", encrypted: true, volumeSize: 16, deleteOnTermination: true },
      associatePublicIpAddress: false,
    });
  });

  it("launch template shape: the same three, in the template's string-typed fields", async () => {
    const args = hardenedLaunchTemplateArgs({
      rootVolumeGb: 8,
      rootDeviceName: "/dev/xvda",
      securityGroupIds: ["sg-1"],
    });
    await runProgram(() => ({ id: new aws.ec2.LaunchTemplate("lt", { imageId: "ami-1", ...args }).id }));
    expect(mocks.one("aws:ec2/launchTemplate:LaunchTemplate").inputs).toMatchObject({
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "enabled",
      },
      networkInterfaces: [
        { deviceIndex: 0, associatePublicIpAddress: "false", deleteOnTermination: "true", securityGroups: ["sg-1"] },
      ],
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeType: "gp3", volumeSize: 8, encrypted: "true", deleteOnTermination: "true" },
        },
      ],
    });
  });
});
