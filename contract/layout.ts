// Names both sides agree on: where a release lives on a host, where the secrets are in SSM, and the
// DNS names the HAProxy tier finds the fleet by. The boot script, the deploy step, the local fleet,
// the VM test and the stack all read them from here.

/** Where each part of a service host lives. `current` and `previous` are relative links into `releases/`. */
export function hostPaths(service: string) {
  const root = `/opt/${service}`;
  const etc = `/etc/${service}`;
  return {
    root,
    /** One folder per installed release, named by its version. */
    releases: `${root}/releases`,
    /** Link to the running release (relative: `releases/<version>`), so a copied root stays valid. */
    current: `${root}/current`,
    /** Link to the release before `current`: what a rollback switches back to. */
    previous: `${root}/previous`,
    etc,
    envFile: `${etc}/${service}.env`,
    /** Root-only folder of the files holding secret values, one value per file. */
    secrets: `${etc}/secrets`,
    datadogEnvFile: `${etc}/secrets/datadog.env`,
    papertrailInclude: `${etc}/secrets/papertrail.rsyslog.conf`,
    unit: `/etc/systemd/system/${service}.service`,
    logDir: `/var/log/${service}`,
    logFile: `/var/log/${service}/${service}.log`,
    rsyslog: `/etc/rsyslog.d/10-${service}.conf`,
    logrotate: `/etc/logrotate.d/${service}`,
    bootScript: `/usr/local/sbin/${service}-boot`,
    deployScript: `/usr/local/sbin/${service}-deploy`,
  };
}

export type HostPaths = ReturnType<typeof hostPaths>;

/**
 * Where the boot script installs the Node runtime of a version (root-owned, 0755), and what the service
 * unit runs. Versioned, so a host holding two runtimes never mixes them.
 */
export function nodeBinaryPath(version: string): string {
  return `/opt/node/v${version}/bin/node`;
}

/** The SSM SecureString parameters holding the service's secrets; the path includes the stack's env. */
export function ssmParameterNames(
  service: string,
  env: string,
): { datadogApiKey: string; papertrailDestination: string } {
  return {
    datadogApiKey: `/${service}/${env}/datadog-api-key`,
    papertrailDestination: `/${service}/${env}/papertrail-destination`,
  };
}

/** Private zone and record the HAProxy tier discovers the fleet through. */
export function fleetDnsNames(service: string, env: string): { zone: string; fleet: string } {
  const zone = `${service}.${env}.internal`;
  return { zone, fleet: `fleet.${zone}` };
}
