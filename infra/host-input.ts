// The one mapping from stack config to the host renderers' input, used by the stack, `npm run render` and
// the user-data size check (infra/user-data-size.ts).
import { fleetDnsNames } from "../contract/layout";
import { nodeRuntime } from "../contract/runtime";
import { ServiceSettings } from "../contract/service";
import { NodeUserDataOptions, defaultListenPort } from "../host/haproxy/nodeUserData";
import { HostInput, withHostDefaults } from "../host/input";
import type { StackConfig } from "./config-schema";

/** The service settings of a stack (contract/service.ts), from the config keys that hold them. */
export function serviceSettingsOf(c: StackConfig): ServiceSettings {
  return {
    name: c.serviceName,
    port: c.port,
    workers: c.workers === 0 ? undefined : c.workers,
    drainDelayMs: c.drainDelayMs,
    shutdownTimeoutMs: c.shutdownTimeoutMs,
    keepAliveTimeoutMs: c.keepAliveTimeoutMs,
    headersTimeoutMs: c.headersTimeoutMs,
  };
}

/** The host input for a stack: the one mapping from stack config to host files (stack and `npm run render`). */
export function hostInputOf(
  c: StackConfig,
  where: { region: string; bundleUrl: string; bundleSha256: string; runtime?: HostInput["runtime"] },
): HostInput {
  return withHostDefaults({
    env: c.env,
    // The content hash names the release: same bundle, same version, same user-data.
    version: where.bundleSha256.slice(0, 12),
    bundle: { url: where.bundleUrl, sha256: where.bundleSha256 },
    // Until the stack ships the runtime (helper runtime): the x64 binary, content-addressed beside the bundle.
    runtime: where.runtime ?? {
      url: `${where.bundleUrl.slice(0, where.bundleUrl.indexOf("/", 5))}/runtimes/${nodeRuntime.sha256.x64}`,
      sha256: nodeRuntime.sha256.x64,
      version: nodeRuntime.version,
    },
    service: serviceSettingsOf(c),
    region: where.region,
    datadogSite: c.datadogSite,
  });
}

/** HAProxy's port on a node, the NLB's target port: >= 1024, as haproxy.service gives HAProxy no capability (host/haproxy/unit.ts). */
export const haproxyListenPort = defaultListenPort;

/** server-template slots on each HAProxy node: room for twice the fleet (HaproxyTier's default). */
export function haproxyServerSlots(c: StackConfig): number {
  return 2 * c.minSize;
}

/**
 * The HAProxy nodes' input (HAProxy flavor): the same service settings, fleet name, slots and port as the
 * tier's own haproxy.cfg, and no bundle, so a new release does not replace the nodes.
 */
export function nodeInputOf(c: StackConfig, region: string): NodeUserDataOptions {
  const service = serviceSettingsOf(c);
  return {
    env: c.env,
    service,
    region,
    datadogSite: c.datadogSite,
    fleetDnsName: fleetDnsNames(service.name, c.env).fleet,
    serverSlots: haproxyServerSlots(c),
    listenPort: haproxyListenPort,
    https: c.certificateArn !== "",
  };
}
