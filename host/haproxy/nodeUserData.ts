// Every file of an HAProxy node and its cloud-init user-data: the tier's haproxy.cfg, the hardened
// haproxy.service, and the service hosts' logging, Datadog and secret handling (host/) applied
// to HAProxy: its journal lines go to /var/log/haproxy/haproxy.log and Papertrail, the agent runs its
// HAProxy check on the loopback stats endpoint. Pure: typed input with defaults in, text out.
import { stringify } from "yaml";
import {
  BootProgram,
  DatadogProgram,
  HostBase,
  HostBaseOptions,
  HostFile,
  HostInputError,
  checkHostBase,
  productionLogrotateSite,
  productionSite,
  finalMessage,
  renderCloudConfig,
  renderDatadogFor,
  renderHostBootScript,
  renderLogrotate,
  renderLogrotateTimer,
  renderRsyslog,
  withHostBaseDefaults,
} from "..";
import { hostPaths } from "../../contract/layout";
import { formatProblem } from "../../contract/problem";
import { ServiceSettings, withServiceDefaults } from "../../contract/service";
import { HaproxyConfigOptions, checkHaproxyConfig, renderHaproxyConfig, withHaproxyDefaults } from "./config";
import { haproxyUnitDefaults, renderHaproxyUnit } from "./unit";

/** HAProxy's port on a node unless given (the NLB target port). */
export const defaultListenPort = 8080;

/** Amazon's DNS resolver, reachable from every instance of a VPC at this link-local address. */
export const VPC_RESOLVER = "169.254.169.253:53";

/**
 * The NLB's health check of a node: HAProxy answers `path` on `port` of every address itself, 200 while at
 * least one service host is usable and 503 when none is (config.ts healthFrontend).
 */
export const nodeHealthCheck = { port: 8405, path: "/haproxy-health" } as const;

/** What the tier's haproxy.cfg depends on: all plain values known before anything is created. */
export interface TierConfigInput {
  service: ServiceSettings;
  /** DNS name holding one A record per fleet instance (the private zone's `fleet.` record). */
  fleetDnsName: string;
  /** server-template slots: at least the largest fleet size; unused slots stay in maintenance. */
  serverSlots: number;
  /**
   * HAProxy's HTTP port on the node, the NLB target port: 1024 or above (default 8080), as the unit runs
   * HAProxy with no capability (PrivateUsers=yes), and binding a lower port needs one.
   */
  listenPort: number;
  /** Clients come over HTTPS (the NLB has a certificate): answers carry HSTS. Default false. */
  https?: boolean;
  /** Log whole URLs, query values included (default: path and query keys only). */
  logFullUrl?: boolean;
  /** Port of the NLB's health check on the node. Default nodeHealthCheck.port. */
  healthPort?: number;
}

function tierHaproxyOptions(i: TierConfigInput): HaproxyConfigOptions {
  return {
    service: i.service,
    https: i.https,
    logFullUrl: i.logFullUrl,
    frontend: { address: "0.0.0.0", port: i.listenPort },
    health: { address: "0.0.0.0", port: i.healthPort ?? nodeHealthCheck.port, uri: nodeHealthCheck.path },
    serverTemplate: {
      prefix: "app",
      count: i.serverSlots,
      dnsName: i.fleetDnsName,
      port: i.service.port,
      nameserver: VPC_RESOLVER,
    },
    log: "journal",
  };
}

/**
 * haproxy.cfg of every HAProxy node: the backend is a `server-template` over the fleet's DNS name,
 * resolved at run time through the VPC resolver.
 */
export function renderTierHaproxyConfig(i: TierConfigInput): string {
  return renderHaproxyConfig(tierHaproxyOptions(i));
}

/** The program name on a node: SyslogIdentifier, log folder, unit, Datadog log service. */
export const haproxyProgram = "haproxy";

/** Service settings, env, region, Datadog site and logs as on a service host, plus the tier's config. */
export type NodeUserDataOptions = HostBaseOptions &
  Omit<TierConfigInput, "service" | "listenPort"> & { listenPort?: number };

/** The URL Datadog's HAProxy check polls (it appends `;csv`): the loopback stats frontend of render.ts. */
export function statsUrl(stats: { address: string; port: number }): string {
  return `http://${stats.address}:${stats.port}/stats`;
}

export function renderNodeFiles(o: NodeUserDataOptions): HostFile[] {
  const i = withHostBaseDefaults(o);
  const tier: TierConfigInput = {
    service: i.service,
    fleetDnsName: o.fleetDnsName,
    serverSlots: o.serverSlots,
    listenPort: o.listenPort ?? defaultListenPort,
    https: o.https,
    logFullUrl: o.logFullUrl,
    healthPort: o.healthPort,
  };
  const haproxy = withHaproxyDefaults(tierHaproxyOptions(tier));
  // Both check the service settings: each of their problems is said once.
  const problems = [...new Set([...checkHostBase(i), ...checkHaproxyConfig(haproxy)].map(formatProblem))];
  if (!Number.isInteger(tier.listenPort) || tier.listenPort < 1024 || tier.listenPort > 65535)
    problems.push(
      `listenPort: ${tier.listenPort} must be 1024-65535: haproxy.service grants HAProxy no capability to bind a lower port`,
    );
  if (problems.length) throw new HostInputError(`invalid HAProxy node input:\n  ${problems.join("\n  ")}`);

  const p = hostPaths(haproxyProgram);
  const conf = (path: string, content: string): HostFile => ({ path, content, owner: "root:root", mode: "0644" });
  const unit = { adminSocket: haproxy.adminSocket, serverStateFile: haproxy.serverStateFile };
  return [
    conf(haproxyUnitDefaults.config, renderTierHaproxyConfig(tier)),
    conf(`/etc/systemd/system/${haproxyProgram}.service`, renderHaproxyUnit(unit)),
    conf(p.rsyslog, renderRsyslog(i, productionSite(i, haproxyProgram), haproxyProgram)),
    conf(p.logrotate, renderLogrotate(i, productionLogrotateSite(i, haproxyProgram), haproxyProgram)),
    conf("/etc/systemd/system/logrotate.timer.d/hourly.conf", renderLogrotateTimer()),
    ...renderDatadogFor(i, datadogProgram).map((f) => conf(f.path, f.content)),
    conf(haproxyCheckPath, renderHaproxyCheck(i, statsUrl(haproxy.stats))),
    { path: p.bootScript, content: renderHostBootScript(i, bootProgram()), owner: "root:root", mode: "0755" },
  ];
}

/** cloud-init user-data of an HAProxy node. Holds SSM parameter names, never secret values. */
export function renderNodeUserData(o: NodeUserDataOptions): string {
  const boot = hostPaths(haproxyProgram).bootScript;
  return renderCloudConfig(renderNodeFiles(o), boot, {
    renderer: "host/haproxy/nodeUserData.ts",
    finalMessage: finalMessage(`${withServiceDefaults(o.service).name} HAProxy node`, boot),
  });
}

const datadogProgram: DatadogProgram = {
  name: haproxyProgram,
  unit: `${haproxyProgram}.service`,
  source: "haproxy",
  processSearch: haproxyUnitDefaults.haproxyBin,
  tags: ["role:haproxy"],
};

export const haproxyCheckPath = "/etc/datadog-agent/conf.d/haproxy.d/conf.yaml";

function renderHaproxyCheck(i: HostBase, url: string): string {
  const body = {
    init_config: {},
    instances: [
      {
        // The stats page (socket-based mode): neither OpenMetrics mode, which would need HAProxy's Prometheus exporter.
        url,
        use_openmetrics: false,
        use_prometheus: false,
        collect_status_metrics: true,
        enable_service_check: true,
        tags: [`env:${i.env}`, `service:${i.service.name}`],
      },
    ],
  };
  return `# ${haproxyCheckPath}: rendered by host/haproxy/nodeUserData.ts, do not edit on the host.\n${stringify(body)}`;
}

function bootProgram(): BootProgram {
  return {
    path: hostPaths(haproxyProgram).bootScript,
    vars: {},
    // socat saves the server states before a reload (renderHaproxyUnit's ExecReload).
    debs: ["haproxy", "socat"],
    install: "",
    // The unit's StateDirectory= and RuntimeDirectory= make HAProxy's own folders.
    folders: `install -d -m 0750 -o root -g adm ${hostPaths(haproxyProgram).logDir}\n`,
    // The package started HAProxy with this config already; the unit's own checks guard every (re)start.
    activate: `haproxy -c -q -f ${haproxyUnitDefaults.config}\n`,
    unit: `${haproxyProgram}.service`,
  };
}
