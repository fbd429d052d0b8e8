// The args and outputs convention of the components, checked with the tool that would generate their
// multi-language schema: @pulumi/pulumi's component analyzer refuses unions (beyond `T | undefined`),
// intersections and functions in args. On top of what it accepts: every arg and output is documented,
// every optional arg states its default, service settings arrive as one plain ServiceSettings, and
// registerOutputs lists every output.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockRecorder, runProgram, setupMocks } from "../test/support/pulumi-mocks";
import { Alb } from "./alb";
import { Bundle } from "./bundle";
import { Fleet } from "./fleet";
import { HaproxyTier } from "./haproxy-tier";
import { DatadogIntegration } from "./datadog-integration";
import { Observability } from "./observability";
import { Network } from "./network";
import { Secrets } from "./secrets";
import { ServiceDns } from "./dns";
import { DockerService } from "./docker-service";
import { DockerHaproxy } from "./docker-haproxy";
import { DogstatsdSink } from "./docker-dogstatsd-sink";
import { serviceDefaults } from "../contract/service";
import { componentTypes } from "../test/support/components";

const { Analyzer } = require("@pulumi/pulumi/provider/experimental/analyzer");
const root = path.resolve(__dirname, "..");

interface Property {
  description?: string;
  optional?: boolean;
  plain?: boolean;
  $ref?: string;
}
let schema: Record<string, { inputs: Record<string, Property>; outputs: Record<string, Property> }>;
let mocks: MockRecorder;
let dir: string;

beforeAll(async () => {
  // infra/stack.ts imports every component: the analyzer finds them by following its imports.
  schema = new Analyzer(root, "node-service-aws", { main: "infra/stack.js" }, new Set(componentTypes)).analyze()
    .components;
  mocks = await setupMocks();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "conventions-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(componentTypes)("%s", (component) => {
  it("args and outputs: accepted by the analyzer, documented, defaults stated; service settings as one plain ServiceSettings", () => {
    const { inputs, outputs } = schema[component]!;
    for (const [name, p] of Object.entries(inputs)) {
      expect(p.description, `${component} arg ${name}`).toMatch(/\w{3}/);
      if (p.optional) expect(p.description, `${component} arg ${name} states its default`).toMatch(/\bDefault\b/);
    }
    if ("service" in inputs)
      expect(inputs.service).toMatchObject({ $ref: "#/types/node-service-aws:index:ServiceSettings", plain: true });
    for (const [name, p] of Object.entries(outputs))
      expect(p.description, `${component} output ${name}`).toMatch(/\w{3}/);
    expect(Object.keys(inputs).filter((k) => /GiB$/.test(k))).toEqual([]);
  });
});

it("registerOutputs lists every output of every component", async () => {
  const bundlePath = path.join(dir, "server.js");
  fs.writeFileSync(bundlePath, "console.log('x')\n");
  const subnets = ["subnet-a", "subnet-b"];
  await runProgram(() => {
    new Alb("alb", { vpcId: "vpc-1", subnetIds: subnets });
    new Bundle("bundle", { bundlePath });
    new Fleet("fleet", {
      vpcId: "vpc-1",
      subnetIds: subnets,
      userData: "#cloud-config\n",
      targetGroupArn: "tg",
      loadBalancerSecurityGroupId: "sg",
      loadBalancerArnSuffix: "app/lb/1",
      targetGroupArnSuffix: "targetgroup/tg/1",
      bundleBucketArn: "arn:aws:s3:::b",
      parameterArns: [],
      kmsKeyArn: "k",
    });
    new HaproxyTier("tier", {
      env: "dev",
      vpcId: "vpc-1",
      publicSubnetIds: subnets,
      privateSubnetIds: subnets,
      amiId: "ami-1",
      nodeUserData: "#cloud-config\n",
      fleetInstanceCount: 1,
      fleetUserData: "#cloud-config\n",
      fleetInstanceProfileName: "p",
      nodeParameterArns: [],
      bundleUrl: "s3://b/releases/x.js",
      bundleSha256: "a".repeat(64),
      version: "v1",
    });
    new Network("network", {});
    new Observability("observability", {
      service: serviceDefaults,
      env: "dev",
      expectedHealthyHosts: 1,
      createDatadogIntegration: true,
    });
    new DatadogIntegration("datadogintegration", {});
    new Secrets("secrets", { service: serviceDefaults, env: "dev", datadogApiKey: "k", papertrailDestination: "d:1" });
    new ServiceDns("servicedns", {
      domainName: "api.example.com",
      hostedZoneId: "Z1",
      loadBalancerDnsName: "lb.elb.amazonaws.com",
      loadBalancerZoneId: "Z2",
    });
    new DockerService("dockerservice", { env: "local", bundlePath, containers: 2 });
    new DockerHaproxy("dockerhaproxy", {
      networkName: "net",
      dnsName: "fleet.sample-api.local.internal",
      serverSlots: 4,
    });
    new DogstatsdSink("dogstatsdsink", { networkName: "net" });
    return {};
  });
  for (const component of componentTypes) {
    const [, wire] = [...mocks.outputWires].find(([urn]) =>
      urn.endsWith(`:index:${component}::${component === "HaproxyTier" ? "tier" : component.toLowerCase()}`),
    )!;
    expect(Object.keys(wire as object).sort(), component).toEqual(Object.keys(schema[component]!.outputs).sort());
  }
});
