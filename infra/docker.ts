// target docker (Pulumi.local.yaml): the HAProxy flavor's shape on the local Docker engine, from the same config and
// the same renderers: the service image and containers (DockerService), an optional DogStatsD sink, and HAProxy with
// its server-template resolved through Docker's DNS (DockerHaproxy). No AWS call, no secret read.
import * as pulumi from "@pulumi/pulumi";
import { fromProjectRoot } from "../components/bundle";
import { DockerHaproxy } from "../components/docker-haproxy";
import { DockerService } from "../components/docker-service";
import { DogstatsdSink } from "../components/docker-dogstatsd-sink";
import { dogstatsdSinkAlias } from "../host/docker/dogstatsdSink";
import type { StackConfig } from "./config-schema";
import { serviceSettingsOf } from "./host-input";

export interface DockerStackOutputs {
  serviceUrl: pulumi.Output<string>;
  /** Where HAProxy listens on this machine. */
  loadBalancerDnsName: pulumi.Output<string>;
  /** The service image, `<service>:<tag>`. */
  imageId: pulumi.Output<string>;
}

/** Slots for twice the containers: during a release the new ones run beside the old ones until those are deleted. */
export function dockerServerSlots(c: Pick<StackConfig, "dockerContainers">): number {
  return 2 * c.dockerContainers;
}

export function createDockerStack(c: StackConfig, opts: { bundlePath?: string } = {}): DockerStackOutputs {
  const name = c.serviceName;
  const service = serviceSettingsOf(c);
  const logging = { logDriver: c.dockerLogDriver };
  const app = new DockerService(name, {
    service,
    env: c.env,
    // From the project root, never the working directory: the runtime runs this program in infra/.
    bundlePath: fromProjectRoot(opts.bundlePath ?? c.bundlePath),
    containers: c.dockerContainers,
    dogstatsdHost: c.dockerMetricsSink ? dogstatsdSinkAlias : undefined,
    ...logging,
  });
  if (c.dockerMetricsSink) new DogstatsdSink(`${name}-dogstatsd`, { networkName: app.networkName, ...logging });
  const haproxy = new DockerHaproxy(
    `${name}-haproxy`,
    {
      service,
      networkName: app.networkName,
      dnsName: app.dnsName,
      serverSlots: dockerServerSlots(c),
      hostPort: c.dockerHostPort,
      ...logging,
    },
    // Created once the first containers are healthy, so its own wait (a usable backend) is short.
    { dependsOn: [app] },
  );
  return {
    serviceUrl: haproxy.url,
    loadBalancerDnsName: pulumi.output("127.0.0.1"),
    imageId: app.imageRef,
  };
}
