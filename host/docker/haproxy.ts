// haproxy.cfg of the docker target: the HAProxy flavor's config (host/haproxy/config.ts, same health, drain and
// retry settings), with its server-template resolved through Docker's embedded DNS and the paths and log target
// of the official haproxy image. Pure: typed input in, text out.
import { ServiceSettings } from "../../contract/service";
import { HaproxyConfigOptions, renderHaproxyConfig } from "../haproxy/config";
import { defaultListenPort, nodeHealthCheck } from "../haproxy/nodeUserData";

/**
 * The official haproxy image, on the branch the HAProxy flavor runs (Debian 12's 2.6 LTS, the `haproxy -c` the tests
 * use). Pinned by tag: no registry could be reached where this was written to read its digest (see the README).
 */
export const haproxyImage = "haproxy:2.6.31";

/** Docker's embedded DNS server, in every container on a user-defined network. */
export const DOCKER_DNS = "127.0.0.11:53";

/**
 * Where the image reads its config (its CMD), the one folder its `haproxy` user (uid 99) may write (the admin socket),
 * and the server state file: nothing reloads HAProxy in a container, so it is an empty one shipped beside the config.
 */
export const haproxyImagePaths = {
  config: "/usr/local/etc/haproxy/haproxy.cfg",
  serverState: "/usr/local/etc/haproxy/server-state",
  stateDir: "/var/lib/haproxy",
  uid: 99,
} as const;

/** A server state file with no server: HAProxy starts from DNS alone, without a warning about a missing file. */
export const emptyServerState = "1\n# be_id be_name srv_id srv_name\n";

export interface DockerHaproxyInput {
  service: ServiceSettings;
  /** The service containers' network alias: every container answers to it in Docker's DNS. */
  dnsName: string;
  /**
   * server-template slots. During a release the new containers are up before the old ones are deleted, so DNS
   * holds both sets for a while: at least twice the container count.
   */
  serverSlots: number;
  /** HAProxy's port in its container. Default 8080. */
  listenPort?: number;
  /** Port of the health URI (200 while a service container is usable). Default 8405. */
  healthPort?: number;
}

export function dockerHaproxyOptions(i: DockerHaproxyInput): HaproxyConfigOptions {
  return {
    service: i.service,
    frontend: { address: "0.0.0.0", port: i.listenPort ?? defaultListenPort },
    health: { address: "127.0.0.1", port: i.healthPort ?? nodeHealthCheck.port, uri: nodeHealthCheck.path },
    serverTemplate: {
      prefix: "app",
      count: i.serverSlots,
      dnsName: i.dnsName,
      port: i.service.port,
      nameserver: DOCKER_DNS,
    },
    adminSocket: `${haproxyImagePaths.stateDir}/admin.sock`,
    serverStateFile: haproxyImagePaths.serverState,
    // Docker's log driver takes stdout.
    log: "stdout",
  };
}

export function renderDockerHaproxyConfig(i: DockerHaproxyInput): string {
  return renderHaproxyConfig(dockerHaproxyOptions(i));
}

/**
 * The HAProxy container's health check: its health URI answers 200 while at least one service container passes
 * HAProxy's /readyz check. The image has socat and a shell, no curl.
 */
export function haproxyHealthTest(i: Pick<DockerHaproxyInput, "healthPort">): string[] {
  const port = i.healthPort ?? nodeHealthCheck.port;
  return [
    "CMD-SHELL",
    `printf 'GET ${nodeHealthCheck.path} HTTP/1.0\\r\\n\\r\\n' | socat -T 2 - TCP:127.0.0.1:${port} | head -n 1 | grep -q ' 200 '`,
  ];
}
