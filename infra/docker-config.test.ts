// The config of target docker: Pulumi.local.yaml passes as checked in, needs no AWS key, region or secret, and
// target aws still requires them, with the same messages.
import { describe, expect, it } from "vitest";
import { ConfigError, StackScope, loadStack, loadStackFile, projectKeys, validateStackConfig } from "./config";
import { projectRoot as root } from "../test/support/stack-config";
import { parse as parseYaml } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";

const local = () =>
  projectKeys(
    (parseYaml(fs.readFileSync(path.join(root, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> })
      .config,
  );
const noProviders: StackScope = { stack: "local", providers: {} };

function errorsOf(raw: Record<string, unknown>, scope: StackScope): string[] {
  try {
    validateStackConfig(raw, scope);
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  return [];
}

describe("target docker config", () => {
  it("accepts the checked-in Pulumi.local.yaml: no aws:region, no secret, no AWS key", () => {
    const c = loadStackFile("local", root);
    expect(c).toMatchObject({
      env: "local",
      target: "docker",
      dockerContainers: 3,
      dockerHostPort: 8080,
      dockerLogDriver: "json-file",
      dockerMetricsSink: false,
      workers: 1,
    });
    expect(c).not.toHaveProperty("datadogApiKey");
    expect(loadStack("local", root).scope.providers).toEqual({});
  });

  it("defaults to target aws, which still requires the secrets and the region", () => {
    const { target: _t, ...aws } = local();
    expect(errorsOf(aws, noProviders)).toEqual([
      "datadogApiKey: missing: run pulumi config set --secret datadogApiKey <value>",
      "papertrailDestination: missing: run pulumi config set --secret papertrailDestination <value>",
    ]);
    const withSecrets = { ...aws, datadogApiKey: { secure: "v1:a" }, papertrailDestination: { secure: "v1:b" } };
    expect(errorsOf(withSecrets, noProviders)).toEqual([
      "aws:region: missing: pulumi config set aws:region <region>, e.g. us-east-1",
    ]);
  });

  it("still refuses a secret in clear text, and bad docker values with the key and what it takes", () => {
    expect(errorsOf({ ...local(), datadogApiKey: "plain" }, noProviders)).toEqual([
      "datadogApiKey: must be a secret, not clear text: run pulumi config set --secret datadogApiKey <value>",
    ]);
    expect(errorsOf({ ...local(), dockerContainers: 0, dockerLogDriver: "syslog" }, noProviders)).toEqual([
      "dockerContainers: must be >= 1",
      "dockerLogDriver: must be json-file or journald",
    ]);
    expect(errorsOf({ ...local(), target: "k8s" }, noProviders)[0]).toBe("target: must be aws or docker");
  });

  it("keeps env the stack's name on this target too", () => {
    expect(errorsOf(local(), { stack: "laptop", providers: {} })[0]).toMatch(/^env: "local" but this stack is laptop/);
  });
});
