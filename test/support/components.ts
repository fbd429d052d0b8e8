// Every ComponentResource this package declares, by type name (the last part of its token): the conventions test
// analyzes each, and the stand-in engine knows each as a component.
export const componentTypes = [
  "Alb",
  "Bundle",
  "DatadogIntegration",
  "DockerHaproxy",
  "DockerService",
  "DogstatsdSink",
  "Fleet",
  "HaproxyTier",
  "Network",
  "Observability",
  "Secrets",
  "ServiceDns",
];
