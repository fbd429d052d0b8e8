// The one mapping from stack config to the host renderers' input, used by the stack, `npm run render` and
// the user-data size check (infra/user-data-size.ts).
import { fleetDnsNames } from "../contract/layout";
import { RuntimeArch, nodeRuntime } from "../contract/runtime";
import { ServiceSettings } from "../contract/service";
import { NodeUserDataOptions, defaultListenPort } from "../host/haproxy/nodeUserData";
import { HostInput, withHostDefaults } from "../host/input";
import { runtimeKey } from "../components/bundle/rules";
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

/**
 * The CPU architecture of an EC2 instance type, as npm and Node name it: AWS Graviton (arm64) families are a1
 * and those with a "g" right after the generation digit (t4g, m7g, c7gn, r8gd, x2gd, im4gn, is4gen, g5g,
 * hpc7g, ...); every other family is x86_64 (Intel or AMD: t3, m7i, c7a, g4dn, ...).
 */
export function runtimeArchOf(instanceType: string): RuntimeArch {
  const family = instanceType.split(".")[0]!;
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "x64";
}

/** Where a stack's runtime is in a bundle bucket: its key is the pinned sha256 for the instance type's architecture. */
export function runtimeWhere(c: StackConfig, bucket: string): { runtimeUrl: string; runtimeSha256: string } {
  const runtimeSha256 = nodeRuntime.sha256[runtimeArchOf(c.instanceType)];
  return { runtimeUrl: `s3://${bucket}/${runtimeKey(runtimeSha256)}`, runtimeSha256 };
}

/** The host input for a stack: the one mapping from stack config to host files (stack and `npm run render`). */
export function hostInputOf(
  c: StackConfig,
  where: { region: string; bundleUrl: string; bundleSha256: string; runtimeUrl: string; runtimeSha256: string },
): HostInput {
  return withHostDefaults({
    env: c.env,
    // The content hash names the release: same bundle, same version, same user-data.
    version: where.bundleSha256.slice(0, 12),
    bundle: { url: where.bundleUrl, sha256: where.bundleSha256 },
    runtime: { url: where.runtimeUrl, sha256: where.runtimeSha256, version: nodeRuntime.version },
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
