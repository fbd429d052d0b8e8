// HAProxy on the docker target: the official haproxy image running the HAProxy flavor's config
// (host/docker/haproxy.ts), its server-template resolved through Docker's DNS, published on the host's loopback.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ServiceSettings, serviceDefaults } from "../../contract/service";
import { withHaproxyDefaults } from "../../host/haproxy/config";
import {
  dockerHaproxyOptions,
  emptyServerState,
  haproxyHealthTest,
  haproxyImage,
  haproxyImagePaths,
  renderDockerHaproxyConfig,
} from "../../host/docker/haproxy";
import { dockerLogArgs, hardenedContainerArgs } from "../_shared/dockerContainer";
import { typeToken } from "../_shared/typeToken";

export interface DockerHaproxyArgs {
  /** Service settings (contract/service.ts): port and timings of the checks. Default serviceDefaults. */
  service?: ServiceSettings;
  /** The service containers' private network (DockerService.networkName). */
  networkName: pulumi.Input<string>;
  /** The DNS name the service containers answer to (DockerService.dnsName). Plain: part of haproxy.cfg. */
  dnsName: string;
  /** server-template slots: at least twice the containers, as a release runs old and new side by side. Plain: part of haproxy.cfg. */
  serverSlots: number;
  /** Host port HAProxy is published on. Default 8080. */
  hostPort?: number;
  /** Host address HAProxy is published on. Default 127.0.0.1: this machine only. */
  hostIp?: string;
  /** Image of HAProxy. Default the pinned official image (host/docker/haproxy.ts haproxyImage). */
  image?: string;
  /** Log driver: json-file or journald. Default json-file. */
  logDriver?: string;
  /** json-file: size at which the log is rotated. Default 10m. */
  logMaxSize?: string;
  /** json-file: rotated log files kept. Default 3. */
  logMaxFile?: number;
}

/**
 * The load balancer of the docker target. Its config does not depend on the release, so a release never touches it.
 * A config change replaces it delete-first (the provider's default for containers): one container can hold the host port.
 */
export class DockerHaproxy extends pulumi.ComponentResource {
  /** http://<hostIp>:<hostPort>: the service through HAProxy. */
  public readonly url: pulumi.Output<string>;
  /** haproxy.cfg of the container, as rendered. */
  public readonly haproxyConfig: string;
  /** Name Docker gave the HAProxy container. */
  public readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: DockerHaproxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("DockerHaproxy"), name, {}, opts);
    const service = args.service ?? serviceDefaults;
    const hostPort = args.hostPort ?? 8080;
    const hostIp = args.hostIp ?? "127.0.0.1";
    const input = { service, dnsName: args.dnsName, serverSlots: args.serverSlots };
    this.haproxyConfig = renderDockerHaproxyConfig(input);
    const resolved = withHaproxyDefaults(dockerHaproxyOptions(input));
    // SIGUSR1 (the image's stop signal) stops HAProxy gracefully; hard-stop-after bounds it.
    const stopTimeout = Math.ceil(resolved.hardStopAfterMs / 1000) + 5;

    const image = new docker.RemoteImage(
      `${name}-image`,
      { name: args.image ?? haproxyImage, keepLocally: true },
      { parent: this },
    );
    // The published port needs a network with a route out; the service containers' network has none (and an
    // internal network never gives the default route).
    const edge = new docker.Network(
      `${name}-edge`,
      { driver: "bridge", labels: [{ label: "service", value: service.name }] },
      { parent: this },
    );
    const container = new docker.Container(
      `${name}`,
      {
        image: image.imageId,
        networksAdvanced: [{ name: edge.name }, { name: args.networkName }],
        ports: [{ internal: resolved.frontend.port, external: hostPort, ip: hostIp }],
        uploads: [
          { file: haproxyImagePaths.config, content: this.haproxyConfig },
          { file: haproxyImagePaths.serverState, content: emptyServerState },
        ],
        healthcheck: {
          tests: haproxyHealthTest({}),
          interval: "5s",
          timeout: "3s",
          startPeriod: "60s",
          startInterval: "1s",
          retries: 3,
        },
        // Healthy once a service container passes HAProxy's /readyz check: `pulumi up` ends with a working URL.
        wait: true,
        waitTimeout: 120,
        stopTimeout,
        destroyGraceSeconds: stopTimeout,
        ...dockerLogArgs({
          driver: (args.logDriver ?? "json-file") as "json-file" | "journald",
          maxSize: args.logMaxSize,
          maxFile: args.logMaxFile,
          tag: "haproxy",
        }),
        // The admin socket's folder, writable by the image's haproxy user only; the root file system stays
        // writable for the uploads above (Docker copies nothing into a read-only one), HAProxy runs unprivileged.
        ...hardenedContainerArgs(
          {
            [haproxyImagePaths.stateDir]: `rw,noexec,nosuid,size=1m,uid=${haproxyImagePaths.uid},gid=${haproxyImagePaths.uid},mode=0700`,
          },
          { writableRoot: true },
        ),
        labels: [{ label: "service", value: service.name }],
      },
      { parent: this },
    );

    this.url = pulumi.output(`http://${hostIp}:${hostPort}`);
    this.containerName = container.name;
    this.registerOutputs({ url: this.url, haproxyConfig: this.haproxyConfig, containerName: this.containerName });
  }
}
