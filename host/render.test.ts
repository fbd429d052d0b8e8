// Renderer behaviour that the validators do not cover: secrets stay out, names and settings line up.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  HostInputError,
  HostInputOptions,
  checkHostInput,
  parseDestination,
  renderDatadog,
  renderEnvFile,
  renderHostFiles,
  renderUnit,
  renderUserData,
  withHostDefaults,
} from "./index";
import { hostPaths, nodeBinaryPath } from "../contract/layout";
import { nodeRuntime } from "../contract/runtime";
import { lifecyclePaths } from "./lifecycle";
import { sampleInput, sampleRuntime } from "../test/support/hostInput";

const options: HostInputOptions = {
  env: "prod",
  version: "2026.11.25-1",
  bundle: { url: "s3://sample-artifacts/sample-api/2026.11.25-1/server.js", sha256: "ab".repeat(32) },
  runtime: sampleRuntime,
};

describe("secrets", () => {
  it("has no input field for a secret value", () => {
    // @ts-expect-error the API key is read from SSM on the host; there is nowhere to pass it
    const typed: HostInputOptions = { ...options, datadogApiKey: "x" };
    expect(typed).toBeDefined();
  });

  it("keeps values a caller slips in as extra fields out of the user-data", () => {
    const marker = "SECRET-MARKER-7f3a";
    const sneaky = {
      ...options,
      datadogApiKey: marker,
      papertrailDestination: `${marker}.papertrailapp.com:12345`,
      service: { name: "sample-api", apiKey: marker },
      logs: { papertrail: marker },
    } as unknown as HostInputOptions;
    const ud = renderUserData(withHostDefaults(sneaky));
    expect(ud).not.toContain(marker);
  });

  it("fetches both secrets from the SSM parameters named after service and env, decrypted, into root-only files", () => {
    const ud = renderUserData(sampleInput());
    expect(ud).toContain("ssm_datadog_api_key='/sample-api/prod/datadog-api-key'");
    expect(ud).toContain("ssm_papertrail_destination='/sample-api/prod/papertrail-destination'");
    expect(ud).toMatch(/aws ssm get-parameter .*--with-decryption --name "\$1"/);
    expect(ud).toMatch(/umask 077 && mktemp/);
    // the rendered rsyslog rules include the Papertrail file the boot script writes, and hold no target
    const rules = renderHostFiles(sampleInput()).find((f) => f.path === hostPaths("sample-api").rsyslog)!;
    expect(rules.content).toContain(`include(file="${hostPaths("sample-api").papertrailInclude}"`);
    expect(rules.content).not.toMatch(/omfwd|target=/);
  });
});

describe("input", () => {
  it("names every bad field in one error", () => {
    const bad = withHostDefaults({
      ...options,
      env: "Prod!",
      bundle: { url: "https://x", sha256: "nope" },
      service: { port: 0 },
    });
    const problems = checkHostInput(bad);
    // The service settings' own field (port) is reported under the input's field for them (service.port).
    expect(problems.map((p) => p.field)).toEqual(["service.port", "env", "bundle.url", "bundle.sha256"]);
    for (const p of problems) expect(p.message.startsWith(p.field)).toBe(false);
    expect(() => renderHostFiles(bad)).toThrow(
      /^invalid host input:\n {2}service\.port: 0 must be an integer 1-65535\n {2}env: "Prod!"/,
    );
    expect(() => renderHostFiles(bad)).toThrow(HostInputError);
  });

  it("names every bad runtime and agent source field, and takes no http:// source", () => {
    const bad = withHostDefaults({
      ...options,
      runtime: { url: "https://x/node", sha256: "AB", version: "26" },
      ssmAgent: { baseUrl: "http://s3.example/amazon-ssm", version: "latest", keyring: "not base64!" },
      datadogAgent: {
        aptUrl: "ftp://x",
        keysUrl: "https://keys.datadoghq.com",
        keyFingerprints: ["c0962c7d"],
        version: "7",
      },
    });
    expect(checkHostInput(bad).map((p) => p.field)).toEqual([
      "ssmAgent.baseUrl",
      "ssmAgent.version",
      "ssmAgent.keyring",
      "datadogAgent.aptUrl",
      "datadogAgent.version",
      "datadogAgent.keyFingerprints[0]",
      "runtime.url",
      "runtime.sha256",
      "runtime.version",
    ]);
    const none = withHostDefaults({ ...options, datadogAgent: { keyFingerprints: [] } });
    expect(checkHostInput(none)).toEqual([
      { field: "datadogAgent.keyFingerprints", message: "give at least one key fingerprint" },
    ]);
    // production defaults: AWS's regional bucket of the host's region, Datadog's repository
    const eu = withHostDefaults({ ...options, region: "eu-west-1" });
    expect(eu.ssmAgent.baseUrl).toBe("https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1");
    expect(eu.datadogAgent).toMatchObject({
      aptUrl: "https://apt.datadoghq.com/",
      keysUrl: "https://keys.datadoghq.com",
    });
    expect(checkHostInput(eu)).toEqual([]);
  });

  it("parses a Papertrail destination or says what is wrong", () => {
    expect(parseDestination("logs7.papertrailapp.com:41234")).toEqual({ host: "logs7.papertrailapp.com", port: 41234 });
    expect(() => parseDestination("logs7.papertrailapp.com")).toThrow(/host:port/);
    expect(() => parseDestination("a b:1")).toThrow(/host:port/);
  });
});

describe("files", () => {
  it("gives the service its settings and Datadog tags through the env file", () => {
    const env = renderEnvFile(sampleInput());
    for (const l of [
      "PORT=3000",
      "SHUTDOWN_TIMEOUT_MS=30000",
      "DD_ENV=prod",
      "DD_SERVICE=sample-api",
      "DD_VERSION=2026.11.25-1",
      "DD_AGENT_HOST=127.0.0.1",
    ])
      expect(env).toContain(`${l}\n`);
  });

  it("configures the agent: site, tags, loopback-only DogStatsD, journald logs of the unit, no api_key", () => {
    const files = renderDatadog(withHostDefaults({ ...options, datadogSite: "datadoghq.eu" }));
    const main = parse(files.find((f) => f.path.endsWith("datadog.yaml"))!.content);
    expect(main).toMatchObject({
      site: "datadoghq.eu",
      tags: ["env:prod", "service:sample-api", "version:2026.11.25-1"],
      bind_host: "127.0.0.1",
      dogstatsd_port: 8125,
      dogstatsd_non_local_traffic: false,
      logs_enabled: true,
    });
    expect(main).not.toHaveProperty("api_key");
    // EC2 tags as host tags: from instance metadata first (the hosts' metadata options expose tags), then the
    // EC2 API (their roles grant ec2:DescribeTags). Datadog agent pkg/util/ec2 fetchEc2Tags:
    // collect_ec2_tags_use_imds tries IMDS and falls back to the API.
    expect(main).toMatchObject({ collect_ec2_tags: true, collect_ec2_tags_use_imds: true });
    const journald = parse(files.find((f) => f.path.includes("journald.d"))!.content);
    expect(journald.logs[0]).toMatchObject({
      type: "journald",
      include_units: ["sample-api.service"],
      service: "sample-api",
    });
  });

  it("runs the service with the pinned runtime the boot installs, not a system node", () => {
    const unit = renderUnit(sampleInput());
    expect(unit).toContain(`ExecStart=${nodeBinaryPath(nodeRuntime.version)} /opt/sample-api/current/server.js\n`);
    expect(unit).toContain(`ExecStartPost=${nodeBinaryPath(nodeRuntime.version)} -e "`);
    expect(unit).not.toContain("/usr/bin/node");
  });

  it("ends cloud-init with a message naming the release and the boot's duration", () => {
    const doc = parse(renderUserData(sampleInput()).replace(/^#cloud-config\n/, ""));
    expect(doc.final_message).toBe(
      "sample-api release 2026.11.25-1: cloud-init finished $UPTIME s after boot (boot script result: journalctl -t sample-api-boot)",
    );
  });

  it("writes the scripts (boot, deploy, lifecycle) executable and every other file root-owned 0644", () => {
    const p = hostPaths("sample-api");
    for (const f of renderHostFiles(sampleInput())) {
      expect(f.owner).toBe("root:root");
      expect(f.mode).toBe(
        [p.bootScript, p.deployScript, lifecyclePaths("sample-api").script].includes(f.path) ? "0755" : "0644",
      );
      expect(f.path.startsWith("/")).toBe(true);
    }
  });
});
