// The host policies, each with a resource that passes and one that violates, called as the analyzer server calls
// them (policy/test/args.ts).
import { describe, expect, it } from "vitest";
import { ResourceSpec, runPolicy, urnOf } from "../test/args";
import {
  encryptedVolumes,
  fleetSpread,
  imdsv2Required,
  noPublicIp,
  rollingDeploy,
  subnetsNoAutoPublicIp,
} from "./compute";

const lt = (props: object): ResourceSpec => ({ type: "aws:ec2/launchTemplate:LaunchTemplate", name: "lt", props });
const instance = (name: string, props: object, parent?: string): ResourceSpec => ({
  type: "aws:ec2/instance:Instance",
  name,
  props,
  ...(parent ? { parent } : {}),
});
const messages = async (p: Parameters<typeof runPolicy>[0], specs: ResourceSpec[], config = {}) =>
  (await runPolicy(p, specs, config)).violations.map((v) => v.message);

describe("imdsv2-required", () => {
  const secure = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 };
  it("passes tokens required with hop limit 1 on a launch template and an instance", async () => {
    expect(
      await messages(imdsv2Required, [lt({ metadataOptions: secure }), instance("i", { metadataOptions: secure })]),
    ).toEqual([]);
  });
  it("fails IMDSv1 allowed (spot instance too) and a hop limit that lets containers reach the token", async () => {
    expect(
      await messages(imdsv2Required, [
        lt({ metadataOptions: { httpTokens: "optional" } }),
        { type: "aws:ec2/spotInstanceRequest:SpotInstanceRequest", name: "s", props: {} },
        instance("i", { metadataOptions: { ...secure, httpPutResponseHopLimit: 2 } }),
      ]),
    ).toEqual([
      expect.stringMatching(/^metadataOptions.httpTokens must be "required"/),
      expect.stringMatching(/^metadataOptions.httpTokens must be "required"/),
      expect.stringMatching(/httpPutResponseHopLimit is 2: at most 1/),
    ]);
    expect(
      await messages(imdsv2Required, [instance("i", { metadataOptions: { ...secure, httpPutResponseHopLimit: 2 } })], {
        maxHopLimit: 2,
      }),
    ).toEqual([]);
  });
});

it("a value unknown in preview stops the rule as the SDK's proxy does (the CLI reports it as advisory)", async () => {
  const unknownObject = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"; // @pulumi/policy proxy.js unknownObjectValue
  expect((await runPolicy(imdsv2Required, [lt({ metadataOptions: unknownObject })])).unknown).toBe(
    "Object value at .metadataOptions can't be known during preview",
  );
});

describe("encrypted-volumes", () => {
  it("passes encrypted mappings (the provider's string booleans) and an encrypted root device", async () => {
    expect(
      await messages(encryptedVolumes, [
        lt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }] }),
        instance("i", {
          rootBlockDevice: { encrypted: true },
          ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }],
        }),
        { type: "aws:ebs/volume:Volume", name: "v", props: { encrypted: true } },
      ]),
    ).toEqual([]);
  });
  it("fails an unencrypted mapping, an image's own volume and an unencrypted data volume", async () => {
    expect(
      await messages(encryptedVolumes, [
        lt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] }),
        lt({}),
        instance("i", { rootBlockDevice: { encrypted: true }, ebsBlockDevices: [{ deviceName: "/dev/sdf" }] }),
        instance("j", {}),
      ]),
    ).toEqual([
      "blockDeviceMappings /dev/xvda is not encrypted",
      expect.stringMatching(/^no blockDeviceMappings/),
      "ebsBlockDevices /dev/sdf is not encrypted",
      expect.stringMatching(/^no rootBlockDevice: the image's own/),
    ]);
  });
});

describe("no-public-ip", () => {
  it("passes an explicit no on the launch template's interface and the instance", async () => {
    expect(
      await messages(noPublicIp, [
        lt({ networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false" }] }),
        instance("i", { associatePublicIpAddress: false }),
      ]),
    ).toEqual([]);
  });
  it("fails a public address and a choice left to the subnet", async () => {
    expect(
      await messages(noPublicIp, [
        lt({ networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "true" }] }),
        instance("i", {}),
      ]),
    ).toEqual([
      'network interface 0: associatePublicIpAddress must be "false"',
      expect.stringMatching(/^associatePublicIpAddress must be false/),
    ]);
  });
});

describe("subnets-no-auto-public-ip", () => {
  const subnet = (props: object): ResourceSpec => ({ type: "aws:ec2/subnet:Subnet", name: "s", props });
  it("passes a subnet that hands out no public address, and fails one that does", async () => {
    expect(await messages(subnetsNoAutoPublicIp, [subnet({ mapPublicIpOnLaunch: false })])).toEqual([]);
    expect(await messages(subnetsNoAutoPublicIp, [subnet({ mapPublicIpOnLaunch: true })])).toHaveLength(1);
  });
});

const subnets: ResourceSpec[] = ["a", "b"].map((z) => ({
  type: "aws:ec2/subnet:Subnet",
  name: `private-${z}`,
  props: { availabilityZone: `us-east-1${z}`, id: `subnet-${z}` },
}));
const asg = (props: object): ResourceSpec => ({ type: "aws:autoscaling/group:Group", name: "asg", props });

describe("fleet-spread (prod only)", () => {
  it("passes a group of 2 over 2 AZs and instances of one component in 2 AZs", async () => {
    const parent: ResourceSpec = { type: "node-service-aws:index:HaproxyTier", name: "tier", props: {} };
    const specs = [
      ...subnets,
      parent,
      asg({ minSize: 2, vpcZoneIdentifiers: ["subnet-a", "subnet-b"] }),
      instance("i0", { subnetId: "subnet-a" }, urnOf(parent)),
      instance("i1", { subnetId: "subnet-b" }, urnOf(parent)),
    ];
    expect(await runPolicy(fleetSpread, specs)).toEqual({ violations: [] });
  });
  it("counts each subnet from outside the stack as an AZ of its own", async () => {
    const outside = [instance("i0", { subnetId: "subnet-x" }), instance("i1", { subnetId: "subnet-y" })];
    expect(await runPolicy(fleetSpread, [...subnets, ...outside])).toEqual({ violations: [] });
  });
  it("fails one instance, one AZ; and does not apply where env is not prod", async () => {
    const specs = [
      ...subnets,
      asg({ minSize: 1, vpcZoneIdentifiers: ["subnet-a"] }),
      instance("i0", { subnetId: "subnet-a" }),
    ];
    expect(await messages(fleetSpread, specs)).toEqual([
      "minSize is 1: at least 2, so one instance can fail or roll",
      "spans 1 Availability Zone(s): at least 2, so an AZ outage leaves it serving",
      "a fleet of 1 instance(s) under the stack: at least 2",
      "the fleet under the stack spans 1 Availability Zone(s): at least 2",
    ]);
    expect(await runPolicy(fleetSpread, specs, { env: "dev" })).toEqual({
      violations: [],
      notApplicable: "prod-only rule; this stack's env is dev",
    });
  });
});

describe("rolling-deploy", () => {
  const refresh = { strategy: "Rolling", preferences: { minHealthyPercentage: 100 } };
  const fleet = [instance("i0", { tags: { Fleet: "svc-prod" } }), instance("i1", { tags: { Fleet: "svc-prod" } })];
  const association = (props: object): ResourceSpec => ({
    type: "aws:ssm/association:Association",
    name: "rollout",
    props: { targets: [{ key: "tag:Fleet", values: ["svc-prod"] }], ...props },
  });
  it("passes an instance refresh, a group under the refresh guard, and a one-at-a-time association", async () => {
    const guarded = { ...asg({ tags: [{ key: "fleet", value: "f1" }] }), name: "guarded" };
    const guard: ResourceSpec = {
      type: "pulumi-nodejs:dynamic:InstanceRefreshGuard",
      name: "guard",
      props: { tagKey: "fleet", tagValue: "f1" },
    };
    const specs = [
      asg({ instanceRefresh: refresh }),
      guarded,
      guard,
      ...fleet,
      association({ maxConcurrency: "1", maxErrors: "0" }),
    ];
    expect(await messages(rollingDeploy, specs)).toEqual([]);
  });
  it("fails a group nothing rolls, a refresh that terminates first, and an association that runs all at once", async () => {
    const specs = [
      asg({}),
      {
        ...asg({ instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } } }),
        name: "drops",
      },
      ...fleet,
      association({ maxConcurrency: "100%", maxErrors: "0" }),
    ];
    expect(await messages(rollingDeploy, specs)).toEqual([
      expect.stringMatching(/^no instanceRefresh and no refresh guard/),
      "instanceRefresh keeps 90% in service: at least 100% (launch before terminate)",
      "the association deploying to the fleet under the stack must run maxConcurrency 1 and maxErrors 0",
    ]);
  });
});
