// The package's root entry: every component, for `import { Fleet } from "node-service-aws"` and for
// `pulumi package add` (PulumiPlugin.yaml): the Node runtime loads this file as the plugin and serves each
// exported ComponentResource; @pulumi/pulumi's analyzer reads the args and outputs from the sources it imports.
// Beside them, the building blocks a stack needs to wire the HAProxy flavor, which no component makes itself:
// the service hosts' role and image, and the nodes' user-data (TypeScript consumers only: the plugin serves
// components, not functions).
export { Alb, AlbArgs } from "./components/alb";
export { Bundle, BundleArgs } from "./components/bundle";
export { DatadogIntegration, DatadogIntegrationArgs } from "./components/datadog-integration";
export { ServiceDns, ServiceDnsArgs } from "./components/dns";
export { Fleet, FleetArgs } from "./components/fleet";
export { HaproxyTier, HaproxyTierArgs } from "./components/haproxy-tier";
export { Network, NetworkArgs } from "./components/network";
export { Observability, ObservabilityArgs } from "./components/observability";
export { Secrets, SecretsArgs } from "./components/secrets";
export { ServiceSettings, serviceDefaults, withServiceDefaults } from "./contract/service";
export { serviceHostRole, ServiceHostRoleArgs } from "./components/fleet/hostRole";
export { debianImage } from "./components/fleet/image";
export { renderNodeUserData, NodeUserDataOptions, defaultListenPort } from "./host/haproxy/nodeUserData";
export { renderUserData, withHostDefaults, HostInputOptions } from "./host";
