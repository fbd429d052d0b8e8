import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT_ID, MockRecorder, settle, setupMocks, valueOf } from "../../test/support/pulumi-mocks";
import {
  DATADOG_AWS_ACCOUNT_ID,
  DatadogIntegration,
  DatadogIntegrationArgs,
  DatadogIntegrationOptions,
  defaultDatadogNamespaces,
} from "./index";

const DD_STANDARD_PERMISSIONS = [
  "cloudwatch:GetMetricData",
  "cloudwatch:ListMetrics",
  "ec2:DescribeInstances",
  "tag:GetResources",
];
const PERMISSIONS_TOKEN = "datadog:aws/getIntegrationIamPermissionsStandard:getIntegrationIamPermissionsStandard";

// One mock monitor for the file (a component's registerOutputs may reach it after its test ended); each test
// starts with empty records. The register requests are watched too, for the aliases they carry.
let mocks: MockRecorder;
let permissionCalls = 0;
const aliasParents = new Map<string, string[]>();
beforeAll(async () => {
  mocks = await setupMocks();
  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const call = monitor.mocks.call.bind(monitor.mocks);
  monitor.mocks.call = (args: { token: string }) =>
    args.token === PERMISSIONS_TOKEN ? (permissionCalls++, call(args)) : call(args);
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    aliasParents.set(
      `${req.getType()}::${req.getName()}`,
      req.getAliasesList().map((a: any) => a.getSpec().getParenturn()),
    );
    return register(req, cb);
  };
});
beforeEach(() => {
  mocks.clear();
  aliasParents.clear();
  permissionCalls = 0;
});

async function build(args: DatadogIntegrationArgs = {}, opts?: DatadogIntegrationOptions) {
  const integration = new DatadogIntegration("acct", args, opts);
  const roleArn = await valueOf(integration.roleArn);
  await valueOf(integration.integrationId);
  await settle();
  await new Promise((r) => setImmediate(r));
  await settle();
  return roleArn;
}

const children = [
  "datadog:aws/integrationExternalId:IntegrationExternalId::acct-dd-external-id",
  "aws:iam/role:Role::acct-dd-integration",
  "aws:iam/rolePolicy:RolePolicy::acct-dd-integration",
  "datadog:aws/integrationAccount:IntegrationAccount::acct-dd-aws",
];

describe("DatadogIntegration", () => {
  it("uses IntegrationAccount with a role only Datadog's account can assume with the external id, limited to Datadog's standard permissions", async () => {
    const roleArn = await build();
    const extId = mocks.one("datadog:aws/integrationExternalId:IntegrationExternalId");
    const role = mocks.one("aws:iam/role:Role").inputs;
    expect(JSON.parse(role.assumeRolePolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${DATADOG_AWS_ACCOUNT_ID}:root` },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": `${extId.name}-id` } },
      },
    ]);
    expect(roleArn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/acct-dd-integration-x1`);
    const policy = JSON.parse(mocks.one("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: DD_STANDARD_PERMISSIONS, Resource: "*" }]);
    expect(permissionCalls).toBe(1);

    const account = mocks.one("datadog:aws/integrationAccount:IntegrationAccount").inputs;
    expect(account.awsAccountId).toBe(ACCOUNT_ID);
    expect(account.awsPartition).toBe("aws");
    expect(account.authConfig.awsAuthConfigRole).toEqual({
      roleName: "acct-dd-integration-x1",
      externalId: `${extId.name}-id`,
    });
    expect(account.awsRegions).toEqual({ includeOnlies: ["us-east-1"] });
    expect(account.metricsConfig.namespaceFilters.includeOnlies).toEqual(defaultDatadogNamespaces);
    expect(account.resourcesConfig).toEqual({
      extendedCollection: false,
      cloudSecurityPostureManagementCollection: false,
    });
  });

  it("takes another principal (e.g. the US1-FED account) and fewer namespaces; the partition is looked up", async () => {
    await build({ datadogAwsAccountId: "065115117704", datadogNamespaces: ["AWS/EC2"] });
    const trust = JSON.parse(mocks.one("aws:iam/role:Role").inputs.assumeRolePolicy).Statement[0];
    expect(trust.Principal).toEqual({ AWS: "arn:aws:iam::065115117704:root" });
    expect(
      mocks.one("datadog:aws/integrationAccount:IntegrationAccount").inputs.metricsConfig.namespaceFilters
        .includeOnlies,
    ).toEqual(["AWS/EC2"]);
    expect(mocks.calls.map((c) => c.token)).toContain("aws:index/getPartition:getPartition");
  });

  it("crawls every region the account's stacks run in, so stacks in other regions can reuse the one integration", async () => {
    await build({ datadogRegions: ["us-east-1", "eu-west-1"] });
    expect(mocks.one("datadog:aws/integrationAccount:IntegrationAccount").inputs.awsRegions).toEqual({
      includeOnlies: ["us-east-1", "eu-west-1"],
    });
  });

  it("gives every child an alias per former parent, so resources made before the component existed keep their URNs", async () => {
    const former = "urn:pulumi:test::node-service-aws::node-service:observability:Observability::svc";
    await build({}, { formerParents: [former] });
    for (const child of children) expect(aliasParents.get(child), child).toEqual([former]);
    aliasParents.clear();
    mocks.clear();
    await build();
    for (const child of children) expect(aliasParents.get(child), child).toEqual([]);
  });
});

describe("DatadogIntegration args", () => {
  // What `pulumi package add` reads to publish the component to other languages.
  it("pass Pulumi's component analyzer, every input and output documented, none plain", () => {
    const entry = path.join(__dirname, "index.ts");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-"));
    try {
      fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({ extends: path.resolve(__dirname, "../../tsconfig.json"), files: [entry], include: [] }),
      );
      const schema = new Analyzer(
        dir,
        "node-service-aws",
        { exports: { ".": entry } },
        new Set(["DatadogIntegration"]),
      ).analyze().components.DatadogIntegration!;
      expect(Object.keys(schema.inputs).sort()).toEqual(["datadogAwsAccountId", "datadogNamespaces", "datadogRegions"]);
      expect(Object.keys(schema.outputs).sort()).toEqual(["integrationId", "roleArn"]);
      for (const [k, p] of [...Object.entries(schema.inputs), ...Object.entries(schema.outputs)]) {
        expect(p.description, k).toMatch(/(Default|Always)\s/);
        expect(p.plain, k).toBeUndefined();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
