// The docker target's optional metrics sink: a container on the service's private network that receives the
// service's DogStatsD packets and prints them (host/docker/dogstatsdSink.ts), in place of the Datadog agent.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { nodeBaseImage } from "../../host/docker/dockerfile";
import { dogstatsdPort, dogstatsdSinkAlias, renderDogstatsdSink } from "../../host/docker/dogstatsdSink";
import { dockerLogArgs, hardenedContainerArgs } from "../_shared/dockerContainer";
import { typeToken } from "../_shared/typeToken";

export interface DogstatsdSinkArgs {
  /** The service containers' private network (DockerService.networkName). */
  networkName: pulumi.Input<string>;
  /** Image with node to run the sink in. Default the service image's base, node:<production Node>-bookworm-slim. */
  image?: string;
  /** Log driver: json-file or journald. Default json-file. */
  logDriver?: string;
  /** json-file: size at which the log is rotated. Default 10m. */
  logMaxSize?: string;
  /** json-file: rotated log files kept. Default 3. */
  logMaxFile?: number;
}

/** `docker logs <sink>` shows each metric the service sends, one line each. It needs no API key and sends nothing on. */
export class DogstatsdSink extends pulumi.ComponentResource {
  /** The name the service reaches the sink by on the private network: the service's DD_AGENT_HOST. */
  public readonly host: string;
  /** UDP port of the sink: the service's DD_DOGSTATSD_PORT. */
  public readonly port: number;
  /** Name Docker gave the sink container. */
  public readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: DogstatsdSinkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken("DogstatsdSink"), name, {}, opts);
    const image = new docker.RemoteImage(
      `${name}-image`,
      { name: args.image ?? nodeBaseImage, keepLocally: true },
      { parent: this },
    );
    const container = new docker.Container(
      name,
      {
        image: image.imageId,
        command: ["node", "-e", renderDogstatsdSink()],
        // The image's unprivileged user.
        user: "node",
        networksAdvanced: [{ name: args.networkName, aliases: [dogstatsdSinkAlias] }],
        ...dockerLogArgs({
          driver: (args.logDriver ?? "json-file") as "json-file" | "journald",
          maxSize: args.logMaxSize,
          maxFile: args.logMaxFile,
          tag: "dogstatsd",
        }),
        ...hardenedContainerArgs(),
      },
      { parent: this },
    );
    this.host = dogstatsdSinkAlias;
    this.port = dogstatsdPort;
    this.containerName = container.name;
    this.registerOutputs({ host: this.host, port: this.port, containerName: this.containerName });
  }
}
