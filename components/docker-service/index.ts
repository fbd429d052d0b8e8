// The service on the docker target: its image, built from the bundle with the rendered Dockerfile
// (host/docker/dockerfile.ts), and N containers of it on a private network, each answering to the one DNS
// name HAProxy's server-template resolves.
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { sha256File } from "../../contract/digest";
import { serviceEnv } from "../../contract/env";
import { fleetDnsNames } from "../../contract/layout";
import { ServiceSettings, serviceDefaults } from "../../contract/service";
import {
  containerStopTimeoutSec,
  nodeBaseImage,
  renderDockerfile,
  serviceHealthCheck,
} from "../../host/docker/dockerfile";
import { dockerLogArgs, hardenedContainerArgs } from "../_shared/dockerContainer";
import { typeToken } from "../_shared/typeToken";

export interface DockerServiceArgs {
  /** Service settings (contract/service.ts): name, port and timings. Default serviceDefaults. */
  service?: ServiceSettings;
  /** Environment name: DD_ENV and part of the containers' DNS name, fleet.<service>.<env>.internal. */
  env: string;
  /** The built bundle (npm run build), an absolute path: the only file copied into the image. */
  bundlePath: string;
  /** Service containers. Plain: one resource each. Default 2. */
  containers?: number;
  /** Base image of the Dockerfile. Default node:<production Node>-bookworm-slim (host/docker/dockerfile.ts). */
  baseImage?: string;
  /** Log driver of the containers: json-file or journald. Default json-file. */
  logDriver?: string;
  /** json-file: size at which a container's log is rotated. Default 10m. */
  logMaxSize?: string;
  /** json-file: rotated log files kept per container. Default 3. */
  logMaxFile?: number;
  /** Where the service sends DogStatsD metrics (DD_AGENT_HOST). Default 127.0.0.1: nowhere, no agent in the container. */
  dogstatsdHost?: string;
  /** Seconds `pulumi up` waits for a new container to turn healthy (/readyz) before it fails. Default 120. */
  waitTimeoutSec?: number;
}

/**
 * The service image and its containers. A release (a new bundle) is a new image tag, so every container is
 * replaced: Pulumi creates each new container and waits until Docker reports it healthy (`wait`), and deletes
 * the old ones only at the end of the update (create-before-delete), stopping each with SIGTERM and waiting up to
 * its stop timeout, so the service drains. The containers share one DNS alias: HAProxy's server-template adds a
 * new container once it resolves and passes /readyz, and drops an old one when its /readyz fails on SIGTERM.
 */
export class DockerService extends pulumi.ComponentResource {
  /** Name of the private network (internal: no route out) of the service containers. */
  public readonly networkName: pulumi.Output<string>;
  /** The DNS name every service container answers to on that network: fleet.<service>.<env>.internal. */
  public readonly dnsName: string;
  /** `<service>:<tag>` of the built image; the tag is a hash of the Dockerfile and the bundle. */
  public readonly imageRef: pulumi.Output<string>;
  /** The Dockerfile the image is built from (host/docker/dockerfile.ts). */
  public readonly dockerfile: string;
  /** Names Docker gave the service containers. */
  public readonly containerNames: pulumi.Output<string[]>;

  constructor(name: string, args: DockerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("DockerService"), name, {}, opts);
    const service = args.service ?? serviceDefaults;
    const count = args.containers ?? 2;
    if (!Number.isInteger(count) || count < 1 || count > 100)
      throw new pulumi.RunError(`DockerService ${name}: containers: ${count} must be an integer 1-100`);
    if (!path.isAbsolute(args.bundlePath))
      throw new pulumi.RunError(`DockerService ${name}: bundlePath: ${args.bundlePath} must be an absolute path`);
    let bundleSha256: string;
    try {
      bundleSha256 = sha256File(args.bundlePath);
    } catch {
      throw new pulumi.RunError(`DockerService ${name}: bundle ${args.bundlePath} not found: run npm run build first`);
    }
    this.dnsName = fleetDnsNames(service.name, args.env).fleet;
    this.dockerfile = renderDockerfile({
      service,
      bundleFile: path.basename(args.bundlePath),
      baseImage: args.baseImage ?? nodeBaseImage,
    });
    // Everything the image is made of: a new bundle or Dockerfile is a new tag, so new containers.
    const tag = createHash("sha256").update(this.dockerfile).update(bundleSha256).digest("hex").slice(0, 12);

    const network = new docker.Network(
      `${name}-private`,
      { driver: "bridge", internal: true, labels: [{ label: "service", value: service.name }] },
      { parent: this },
    );
    const image = new dockerbuild.Image(
      `${name}-image`,
      {
        // Into the local engine's image store (`docker build --load`); pushed nowhere.
        push: false,
        load: true,
        // The bundle's folder; the Dockerfile copies the bundle alone.
        context: { location: path.dirname(args.bundlePath) },
        dockerfile: { inline: this.dockerfile },
        tags: [`${service.name}:${tag}`],
        labels: {
          "org.opencontainers.image.title": service.name,
          "org.opencontainers.image.version": bundleSha256.slice(0, 12),
        },
      },
      { parent: this },
    );

    const health = serviceHealthCheck(service);
    const stopTimeout = containerStopTimeoutSec(service);
    const env = {
      ...serviceEnv(service),
      DD_AGENT_HOST: args.dogstatsdHost ?? "127.0.0.1",
      DD_DOGSTATSD_PORT: "8125",
      DD_ENV: args.env,
      DD_SERVICE: service.name,
      DD_VERSION: bundleSha256.slice(0, 12),
    };
    const containers = Array.from(
      { length: count },
      (_, i) =>
        new docker.Container(
          `${name}-${i + 1}`,
          {
            image: image.ref,
            envs: Object.entries(env).map(([k, v]) => `${k}=${v}`),
            networksAdvanced: [{ name: network.name, aliases: [this.dnsName] }],
            healthcheck: {
              tests: ["CMD", ...health.test],
              interval: `${health.intervalSec}s`,
              timeout: `${health.timeoutSec}s`,
              startPeriod: `${health.startPeriodSec}s`,
              startInterval: `${health.startIntervalSec}s`,
              retries: health.retries,
            },
            // `pulumi up` goes on only once the container passes /readyz.
            wait: true,
            waitTimeout: args.waitTimeoutSec ?? 120,
            stopSignal: "SIGTERM",
            stopTimeout,
            // The provider's delete stops with this grace, then removes; without it, it kills at once (no drain).
            destroyGraceSeconds: stopTimeout,
            ...dockerLogArgs({
              driver: (args.logDriver ?? "json-file") as "json-file" | "journald",
              maxSize: args.logMaxSize,
              maxFile: args.logMaxFile,
              tag: service.name,
            }),
            ...hardenedContainerArgs(),
            labels: [
              { label: "service", value: service.name },
              { label: "version", value: bundleSha256.slice(0, 12) },
            ],
          },
          // The provider asks delete-before-replace for every container (pulumi-docker provider/resources.go,
          // docker_container DeleteBeforeReplace: true); the engine lets an explicit false win (step_generator.go):
          // create the new container, healthy, before the old one is deleted. No fixed name or host port to clash.
          { parent: this, deleteBeforeReplace: false },
        ),
    );

    this.networkName = network.name;
    this.imageRef = image.ref;
    this.containerNames = pulumi.all(containers.map((c) => c.name));
    this.registerOutputs({
      networkName: this.networkName,
      dnsName: this.dnsName,
      imageRef: this.imageRef,
      dockerfile: this.dockerfile,
      containerNames: this.containerNames,
    });
  }
}
