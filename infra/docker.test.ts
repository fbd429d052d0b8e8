// target docker (Pulumi.local.yaml) through @pulumi/pulumi's own entry point against the stand-in engine
// (test/support/engine/), as infra/program.test.ts runs the AWS stacks: `pulumi preview`, `pulumi up`, then a
// second release. No Docker engine runs here: what the provider and the engine do with these inputs (the wait
// for health, the stop before delete, the order of a replacement) is read from their sources, named next to
// each check (test/support/engine/replacement.ts and order.ts).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validate } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceDefaults, stopTimeoutSec } from "../contract/service";
import { renderDockerfile, serviceHealthCheck } from "../host/docker/dockerfile";
import { dogstatsdSinkAlias } from "../host/docker/dogstatsdSink";
import { emptyServerState, haproxyImage, renderDockerHaproxyConfig } from "../host/docker/haproxy";
import { Graph, Node, diffGraphs } from "../test/support/engine/graph";
import { RunResult, explain, runProgram } from "../test/support/engine/launch";
import { deletesBeforeReplace, deploymentOrder } from "../test/support/engine/order";
import { replacement } from "../test/support/engine/replacement";
import { projectRoot as root, secretMarker } from "../test/support/stack-config";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker-build:index:Image";
const defaultBundle = path.join(root, "dist/app/server.js");
const service = { ...serviceDefaults, workers: 1 };
const dnsName = "fleet.sample-api.local.internal";
let tmp: string;
let release2File: string;
let preview: RunResult;
let update: RunResult;
let release2: RunResult;
let withOptions: RunResult;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "docker-target-"));
  if (!fs.existsSync(defaultBundle))
    execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
  release2File = path.join(tmp, "release-2", "server.js");
  fs.mkdirSync(path.dirname(release2File));
  fs.writeFileSync(release2File, Buffer.concat([fs.readFileSync(defaultBundle), Buffer.from("\n// release 2\n")]));
  // One run type-checks the program (the runtime's default); the others skip it, as users do.
  preview = await runProgram({ stack: "local", dryRun: true, typecheck: true });
  update = await runProgram({ stack: "local", dryRun: false, typecheck: false });
  release2 = await runProgram({
    stack: "local",
    dryRun: false,
    typecheck: false,
    overrides: { bundlePath: release2File },
    prior: update.engine.graph,
  });
  // The options on, and the AWS secrets set on the local stack anyway: the docker target must not read or pass them.
  withOptions = await runProgram({
    stack: "local",
    dryRun: false,
    typecheck: false,
    overrides: {
      dockerMetricsSink: true,
      dockerLogDriver: "journald",
      datadogApiKey: { secure: "v1:x" },
      papertrailDestination: { secure: "v1:y" },
    },
  });
}, 600_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const nodes = (g: Graph, type?: string): Node[] => [...g.nodes.values()].filter((n) => !type || n.type === type);
const one = (g: Graph, type: string, name?: string): Node => {
  const found = nodes(g, type).filter((n) => !name || n.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
};
const serviceContainers = (g: Graph) => nodes(g, CONTAINER).filter((n) => /^sample-api-\d+$/.test(n.name));

describe("local stack (target docker) through cmd/run", () => {
  it("previews and updates with exit 0, with no AWS resource, lookup or secret read", () => {
    for (const r of [preview, update, release2, withOptions]) {
      expect(r.code, explain(r)).toBe(0);
      expect([r.engine.unimplemented, r.engine.errors]).toEqual([[], []]);
      expect(r.engine.invokes.map((i) => i.tok)).toEqual([]);
      expect(nodes(r.engine.graph).filter((n) => /^(aws|datadog):/.test(n.type))).toEqual([]);
    }
    expect(update.engine.rootUrn).toBe(
      "urn:pulumi:local::node-service-aws::pulumi:pulumi:Stack::node-service-aws-local",
    );
    const outputs = update.engine.graph.outputs.get(update.engine.rootUrn)!;
    expect(outputs).toEqual({
      serviceUrl: "http://127.0.0.1:8080",
      loadBalancerDnsName: "127.0.0.1",
      imageId: expect.stringMatching(/^sample-api:[0-9a-f]{12}$/),
    });
  });

  it("registers the image, 3 service containers on an internal network, HAProxy on an edge network, nothing else", () => {
    const g = update.engine.graph;
    const custom = nodes(g)
      .filter((n) => n.custom)
      .map((n) => `${n.type} ${n.name}`)
      .sort();
    expect(custom).toEqual(
      [
        `${IMAGE} sample-api-image`,
        `${CONTAINER} sample-api-1`,
        `${CONTAINER} sample-api-2`,
        `${CONTAINER} sample-api-3`,
        `${CONTAINER} sample-api-haproxy`,
        "docker:index/network:Network sample-api-haproxy-edge",
        "docker:index/network:Network sample-api-private",
        "docker:index/remoteImage:RemoteImage sample-api-haproxy-image",
      ].sort(),
    );
    expect(one(g, "docker:index/network:Network", "sample-api-private").inputs.internal).toBe(true);
    expect(one(g, "docker:index/network:Network", "sample-api-haproxy-edge").inputs.internal).toBeUndefined();
    expect(one(g, "docker:index/remoteImage:RemoteImage").inputs).toMatchObject({ name: haproxyImage });
    // Every type has its replacement entry, with the provider page.
    for (const n of nodes(g)) expect(replacement[n.type]?.doc, n.type).toMatch(/^https:\/\/www\.pulumi\.com\//);
  });

  it("builds the image from the rendered Dockerfile and the bundle's folder, loaded locally, pushed nowhere, no build secret", () => {
    const image = one(update.engine.graph, IMAGE);
    const dockerfile = renderDockerfile({ service, bundleFile: "server.js" });
    expect(image.inputs).toEqual({
      push: false,
      load: true,
      // The SDK's defaults: a broken Dockerfile fails the preview; RUN has the default network.
      buildOnPreview: true,
      network: "default",
      context: { location: path.dirname(defaultBundle) },
      dockerfile: { inline: dockerfile },
      tags: [expect.stringMatching(/^sample-api:[0-9a-f]{12}$/)],
      labels: {
        "org.opencontainers.image.title": "sample-api",
        "org.opencontainers.image.version": expect.any(String),
      },
    });
    expect(validate(dockerfile)).toEqual([]);
    // The tag is the content: the Dockerfile and the bundle.
    const bundleSha = createHash("sha256").update(fs.readFileSync(defaultBundle)).digest("hex");
    const tag = createHash("sha256").update(dockerfile).update(bundleSha).digest("hex").slice(0, 12);
    expect(image.inputs.tags).toEqual([`sample-api:${tag}`]);
  });

  it("runs each service container healthy-gated, draining on SIGTERM within its stop timeout, hardened, logs rotated", () => {
    const g = update.engine.graph;
    const ref = one(g, IMAGE).outputs.ref;
    const health = serviceHealthCheck(service);
    const containers = serviceContainers(g);
    expect(containers).toHaveLength(3);
    for (const c of containers) {
      expect(c.inputs).toMatchObject({
        image: ref,
        wait: true,
        waitTimeout: 120,
        stopSignal: "SIGTERM",
        stopTimeout: stopTimeoutSec(service),
        destroyGraceSeconds: stopTimeoutSec(service),
        healthcheck: { tests: ["CMD", ...health.test], interval: "5s", retries: 3, startPeriod: "60s" },
        networksAdvanced: [{ name: "sample-api-private-x1", aliases: [dnsName] }],
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        readOnly: true,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        restart: "unless-stopped",
      });
      expect(c.inputs.ports).toBeUndefined();
      expect(c.inputs.name, "auto-named: old and new side by side").toBeUndefined();
      expect(c.options.deleteBeforeReplace, "overrides the provider's delete-before-replace").toBe(false);
      expect(c.inputs.envs).toEqual([
        "PORT=3000",
        "WORKERS=1",
        "DRAIN_DELAY_MS=10000",
        "SHUTDOWN_TIMEOUT_MS=30000",
        "KEEP_ALIVE_TIMEOUT_MS=65000",
        "HEADERS_TIMEOUT_MS=66000",
        "DD_AGENT_HOST=127.0.0.1",
        "DD_DOGSTATSD_PORT=8125",
        "DD_ENV=local",
        "DD_SERVICE=sample-api",
        expect.stringMatching(/^DD_VERSION=[0-9a-f]{12}$/),
      ]);
    }
    // Docker kills after the stop timeout: it outlives the service's own deadline.
    expect(stopTimeoutSec(service) * 1000).toBeGreaterThan(service.shutdownTimeoutMs);
  });

  it("runs HAProxy with the rendered config (Docker's DNS, 2x slots), published on 127.0.0.1 only, healthy once a backend is", () => {
    const g = update.engine.graph;
    const haproxy = one(g, CONTAINER, "sample-api-haproxy");
    const cfg = renderDockerHaproxyConfig({ service, dnsName, serverSlots: 6 });
    expect(haproxy.inputs).toMatchObject({
      image: one(g, "docker:index/remoteImage:RemoteImage").outputs.imageId,
      uploads: [
        { file: "/usr/local/etc/haproxy/haproxy.cfg", content: cfg },
        { file: "/usr/local/etc/haproxy/server-state", content: emptyServerState },
      ],
      ports: [{ internal: 8080, external: 8080, ip: "127.0.0.1" }],
      networksAdvanced: [{ name: "sample-api-haproxy-edge-x1" }, { name: "sample-api-private-x1" }],
      wait: true,
      healthcheck: { tests: ["CMD-SHELL", expect.stringContaining("TCP:127.0.0.1:8405")] },
      capabilities: { drops: ["ALL"] },
    });
    expect(cfg).toContain(`server-template app 6 ${dnsName}:3000 resolvers vpc`);
    expect(cfg).toContain("nameserver dns1 127.0.0.11:53");
    // One container can hold the host port: HAProxy keeps the provider's delete-before-replace.
    expect(haproxy.options.deleteBeforeReplace).toBeUndefined();
    expect(deletesBeforeReplace(g, haproxy.urn)).toBe(true);
    // After the service containers: the component waits for their URNs, which the engine returns once each is
    // created (healthy), and its children wait for the component's URN.
    expect(one(g, "node-service-aws:index:DockerHaproxy").options.dependencies).toEqual(
      expect.arrayContaining(serviceContainers(g).map((n) => n.urn)),
    );
  });

  it("puts no secret in an image layer or a container's environment, even with the AWS secrets set", () => {
    const markers = ["datadogApiKey", "papertrailDestination"].map(secretMarker);
    expect(withOptions.markers.sort()).toEqual([...markers].sort());
    const payloads = JSON.stringify(withOptions.engine.received);
    for (const m of markers) expect(payloads).not.toContain(m);
    for (const r of [update, withOptions]) {
      const image = one(r.engine.graph, IMAGE);
      expect(image.inputs.secrets).toBeUndefined();
      expect(image.inputs.buildArgs).toBeUndefined();
      expect(String((image.inputs.dockerfile as { inline: string }).inline)).not.toMatch(/^(ARG|ENV (?!NODE_ENV=))/m);
      for (const c of nodes(r.engine.graph, CONTAINER))
        for (const e of (c.inputs.envs as string[] | undefined) ?? [])
          expect(e).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD|PAPERTRAIL/i);
    }
  });

  it("with the options on: a DogStatsD sink the service sends to, and journald logs tagged by program", () => {
    const g = withOptions.engine.graph;
    const sink = one(g, CONTAINER, "sample-api-dogstatsd");
    expect(sink.inputs).toMatchObject({
      user: "node",
      networksAdvanced: [{ name: "sample-api-private-x1", aliases: [dogstatsdSinkAlias] }],
      readOnly: true,
      logDriver: "journald",
      logOpts: { tag: "dogstatsd" },
    });
    for (const c of serviceContainers(g)) {
      expect(c.inputs.envs).toContain(`DD_AGENT_HOST=${dogstatsdSinkAlias}`);
      expect(c.inputs).toMatchObject({ logDriver: "journald", logOpts: { tag: "sample-api" } });
    }
    expect(nodes(update.engine.graph).some((n) => n.name === "sample-api-dogstatsd")).toBe(false);
  });
});

describe("local stack: release 2 after release 1", () => {
  it("rebuilds the image under a new tag and replaces every service container, and nothing else", () => {
    const changes = diffGraphs(update.engine.graph, release2.engine.graph).filter((c) => c.step !== "same");
    expect(changes.map((c) => `${c.step} ${c.urn.split("::").pop()}`).sort()).toEqual(
      ["update sample-api-image", "replace sample-api-1", "replace sample-api-2", "replace sample-api-3"].sort(),
    );
    for (const c of changes.filter((x) => x.step === "replace"))
      expect(c.forcedBy).toEqual(["envs", "image", "labels"]);
    expect(one(release2.engine.graph, IMAGE).inputs.tags).not.toEqual(one(update.engine.graph, IMAGE).inputs.tags);
  });

  it("creates all new containers (each awaited healthy) before the engine deletes any old one", () => {
    const order = deploymentOrder(update.engine.graph, release2.engine.graph).map(
      (s) => `${s.op} ${s.urn.split("::").pop()}`,
    );
    expect(order).toEqual([
      "update sample-api-image",
      "create-replacement sample-api-1",
      "create-replacement sample-api-2",
      "create-replacement sample-api-3",
      "delete-replaced sample-api-1",
      "delete-replaced sample-api-2",
      "delete-replaced sample-api-3",
    ]);
    // The option is what makes it so: without it the provider's delete-before-replace would stop each old one first.
    expect(replacement[CONTAINER]!.deleteBeforeReplace).toBe(true);
    const g = structuredClone(release2.engine.graph);
    for (const n of serviceContainers(g)) n.options.deleteBeforeReplace = undefined;
    expect(deploymentOrder(update.engine.graph, g).map((s) => `${s.op} ${s.urn.split("::").pop()}`)).toEqual([
      "update sample-api-image",
      "delete-replaced sample-api-1",
      "create-replacement sample-api-1",
      "delete-replaced sample-api-2",
      "create-replacement sample-api-2",
      "delete-replaced sample-api-3",
      "create-replacement sample-api-3",
    ]);
  });

  it("leaves HAProxy and its config alone: its server-template takes the new containers by DNS", () => {
    const before = one(update.engine.graph, CONTAINER, "sample-api-haproxy");
    const after = one(release2.engine.graph, CONTAINER, "sample-api-haproxy");
    expect(after.inputs).toEqual(before.inputs);
    // Slots for old and new side by side until the old ones are deleted.
    const slots = /server-template app (\d+) /.exec((after.inputs.uploads as { content: string }[])[0]!.content)![1];
    expect(Number(slots)).toBe(2 * serviceContainers(release2.engine.graph).length);
  });
});
