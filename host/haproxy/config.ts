// haproxy.cfg of the HAProxy flavor: one HTTP frontend, one backend of service hosts checked on
// /readyz, a loopback-only stats endpoint (Datadog's HAProxy check), an admin socket for
// drain/ready, and optionally a health frontend for the load balancer in front of the node. The timing rules that make a rolling deploy lossless are enforced here.
import { contentTypeOptions, strictTransportSecurity } from "../../contract/headers";
import { withDefaults } from "../../contract/defaults";
import { Problem, formatProblem } from "../../contract/problem";
import { ServiceSettings, withServiceDefaults } from "../../contract/service";
import { checkDetectionMs, checkHaproxyConfig } from "./checks";
export { checkDetectionMs, checkHaproxyConfig };

export interface HaproxyServer {
  /** Server name in HAProxy (logs, stats, admin socket: `<backend>/<name>`). */
  name: string;
  address: string;
  port: number;
}

/** Servers found through DNS (e.g. a private Route 53 record per service host). */
export interface HaproxyServerTemplate {
  /** Servers are named <prefix>1 .. <prefix><count>. */
  prefix: string;
  /** Slots; must be at least the largest fleet size (unused slots stay in maintenance). */
  count: number;
  dnsName: string;
  port: number;
  /** DNS server as `ip:port`, e.g. the VPC resolver `169.254.169.253:53`. */
  nameserver: string;
}

export interface HaproxyConfigInput {
  service: ServiceSettings;
  /** Exactly one of `servers` and `serverTemplate`. */
  servers?: HaproxyServer[];
  serverTemplate?: HaproxyServerTemplate;
  frontend: { address: string; port: number };
  /** Loopback only: HTML/CSV stats at /stats and a liveness answer at /healthz. */
  stats: { address: string; port: number };
  /**
   * The load balancer's health check of this node: `uri` answers 200 while at least one server of the
   * backend is usable and 503 when none is, any other path 404. Undefined: no such frontend.
   */
  health?: HealthFrontend;
  /** Unix socket, admin level: `set server <backend>/<name> state drain|ready|maint`. */
  adminSocket: string;
  /** Written from `show servers state` before each reload, read at start. */
  serverStateFile: string;
  /** `journal` sends to /dev/log (journald); `stdout` suits a foreground process. */
  log: "journal" | "stdout";
  /**
   * Log whole URLs, query values included. Off by default: the request log carries the path and the
   * query's keys only (`/p?token&x`), as query values (tokens, e-mail addresses) reach Papertrail and Datadog.
   */
  logFullUrl: boolean;
  /** Clients reach the frontend over HTTPS (TLS ends at the NLB in front): answers carry HSTS. */
  https: boolean;
  backendName: string;
  /** Health check timing; derived from service.drainDelayMs when not given. */
  check: HealthCheckTiming;
  timeouts: {
    connectMs: number;
    clientMs: number;
    serverMs: number;
    httpRequestMs: number;
    httpKeepAliveMs: number;
    queueMs: number;
  };
  /** Server-side idle connections: half of them are closed every period. */
  poolPurgeDelayMs: number;
  /** Bound on how long an old process may keep serving after a reload. */
  hardStopAfterMs: number;
  /** Connection attempts after the first, each on another server (`option redispatch 1`). */
  retries: number;
  maxconn: number;
  /** Drop privileges after binding; leave undefined when the service manager already runs it unprivileged. */
  user?: string;
  group?: string;
}

export interface HealthFrontend {
  address: string;
  port: number;
  /** Path the load balancer asks, e.g. /haproxy-health. */
  uri: string;
}

export interface HealthCheckTiming {
  intervalMs: number;
  fall: number;
  rise: number;
  /** Read timeout of one check. */
  timeoutMs: number;
}

export type HaproxyConfigOptions = Partial<Omit<HaproxyConfigInput, "service" | "check" | "timeouts">> & {
  service?: Partial<ServiceSettings>;
  check?: Partial<HealthCheckTiming>;
  timeouts?: Partial<HaproxyConfigInput["timeouts"]>;
};

export class HaproxyConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid HAProxy settings:\n  - ${problems.map(formatProblem).join("\n  - ")}`);
    this.name = "HaproxyConfigError";
  }
}

/** Interval a fifth of the drain delay (100 ms - 2 s), check timeout half an interval, fall 2, rise 2. */
export function deriveHealthCheck(drainDelayMs: number): HealthCheckTiming {
  const intervalMs = Math.min(2000, Math.max(100, Math.floor(drainDelayMs / 5 / 10) * 10));
  return { intervalMs, fall: 2, rise: 2, timeoutMs: Math.max(100, Math.floor(intervalMs / 2)) };
}

export function withHaproxyDefaults(o: HaproxyConfigOptions = {}): HaproxyConfigInput {
  const service = withServiceDefaults(o.service);
  const check = withDefaults(deriveHealthCheck(service.drainDelayMs), o.check);
  const timeouts = withDefaults(
    {
      connectMs: 3000,
      clientMs: 60_000,
      // The slowest request the service answers (its shutdown deadline bounds in-flight work).
      serverMs: Math.max(60_000, service.shutdownTimeoutMs),
      httpRequestMs: 10_000,
      // Client-side idle and server-side idle both stay below the service's keep-alive timeout.
      httpKeepAliveMs: Math.min(10_000, service.keepAliveTimeoutMs - 1000),
      queueMs: 10_000,
    },
    o.timeouts,
  );
  const base: HaproxyConfigInput = {
    service,
    // Unprivileged: HAProxy binds it with no capability (host/haproxy/unit.ts).
    frontend: { address: "0.0.0.0", port: 8080 },
    stats: { address: "127.0.0.1", port: 8404 },
    adminSocket: "/run/haproxy/admin.sock",
    serverStateFile: "/var/lib/haproxy/server-state",
    log: "journal",
    logFullUrl: false,
    https: false,
    backendName: "app",
    check,
    timeouts,
    poolPurgeDelayMs: Math.min(5000, Math.floor(service.keepAliveTimeoutMs / 2)),
    hardStopAfterMs: timeouts.serverMs + 10_000,
    retries: 3,
    maxconn: 4096,
  };
  const { service: _service, check: _check, timeouts: _timeouts, ...rest } = o;
  return withDefaults(base, rest);
}

/**
 * The columns of HAProxy's `show stat` CSV (admin socket, and /stats;csv) that the deploy step and the
 * local fleet read, under HAProxy's own header names. HAProxy only appends columns, so these hold.
 */
export const statColumns = { pxname: 0, svname: 1, scur: 4, stot: 7, status: 17, check_status: 36, addr: 73 } as const;

/**
 * option httplog's line, with the request line's URL replaced by txn.log_url: the http frontend's path
 * and query keys (`/p?token&x` for `/p?token=secret&x=1`). HAProxy's own errors (400, 408) carry no URL: "-".
 * The node's user-data must stay under 16 KB, hence the terse comments in the rendered file.
 */
const keysOnlyLogFormat =
  '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs \\"%HM %[var(txn.log_url)] %HV\\"';

// Methods RFC 9110 calls idempotent: the only ones replayed after the request reached a server.
const idempotentMethods = "GET HEAD OPTIONS PUT DELETE";

export function renderHaproxyConfig(options: HaproxyConfigOptions = {}): string {
  const i = withHaproxyDefaults(options);
  const problems = checkHaproxyConfig(i);
  if (problems.length > 0) throw new HaproxyConfigError(problems);
  const { check: c, timeouts: t, service: s } = i;
  const ms = (n: number) => `${n}ms`;
  const log = i.log === "journal" ? "log /dev/log len 4096 local0 info" : "log stdout format raw local0 info";

  const servers =
    i.servers !== undefined
      ? i.servers.map((sv) => `    server ${sv.name} ${sv.address}:${sv.port}`)
      : [
          // init-addr last,none: start even when DNS has no answer yet; the state file keeps last addresses.
          `    server-template ${i.serverTemplate!.prefix} ${i.serverTemplate!.count} ${i.serverTemplate!.dnsName}:${i.serverTemplate!.port} resolvers vpc resolve-prefer ipv4 init-addr last,none`,
        ];
  const resolvers =
    i.serverTemplate !== undefined
      ? `
resolvers vpc
    nameserver dns1 ${i.serverTemplate.nameserver}
    accepted_payload_size 8192
    resolve_retries 3
    timeout resolve 1s
    timeout retry 1s
    # A host that left DNS leaves the backend within this hold time.
    hold valid 10s
    hold obsolete 10s
`
      : "";

  return `# haproxy.cfg for ${s.name}: rendered by host/haproxy/config.ts, do not edit on the host.
# Drain timing: the service fails /readyz for ${s.drainDelayMs} ms before it stops accepting; HAProxy
# marks it DOWN within fall*(inter+timeout) = ${checkDetectionMs(c)} ms of that.
global
    master-worker
    ${log}
    # Admin level: drain/ready/maint per server; expose-fd hands the listeners to the next process on reload.
    stats socket ${i.adminSocket} mode 660 level admin expose-fd listeners
    stats timeout 30s
    server-state-file ${i.serverStateFile}
    hard-stop-after ${ms(i.hardStopAfterMs)}
    maxconn ${i.maxconn}
${i.user !== undefined ? `    user ${i.user}\n    group ${i.group}\n` : ""}
defaults
    mode http
    log global
${
  i.logFullUrl
    ? "    option httplog"
    : `    # httplog, but the query's keys only (no values)
    log-format "${keysOnlyLogFormat}"`
}
    option dontlognull
    option log-health-checks
    option forwardfor
    option http-keep-alive
    # On reload the old process would close idle client connections at once, racing a client that is
    # sending on one of them (a failed request); instead each gets "Connection: close" on its next answer.
    option idle-close-on-response
    timeout connect ${ms(t.connectMs)}
    timeout client ${ms(t.clientMs)}
    timeout server ${ms(t.serverMs)}
    timeout http-request ${ms(t.httpRequestMs)}
    timeout http-keep-alive ${ms(t.httpKeepAliveMs)}
    timeout queue ${ms(t.queueMs)}
    timeout check ${ms(c.timeoutMs)}
    load-server-state-from-file global
${resolvers}
frontend stats
    bind ${i.stats.address}:${i.stats.port}
    # Datadog polls this every few seconds: log only its errors.
    option dontlog-normal
    stats enable
    stats uri /stats
    stats refresh 10s
    monitor-uri /healthz

${i.health !== undefined ? healthFrontend(i.health, i.backendName) : ""}frontend http
    bind ${i.frontend.address}:${i.frontend.port}
${
  i.logFullUrl
    ? ""
    : `    http-request set-var-fmt(txn.log_url) "%[path]?%[query,regsub('=[^&]*','',g)]" if { query -m found }
    http-request set-var(txn.log_url) path unless { query -m found }
`
}    # after-response: HAProxy's own answers (e.g. 503) too
    http-after-response set-header X-Content-Type-Options ${contentTypeOptions}
${
  i.https
    ? `    http-after-response set-header Strict-Transport-Security "${strictTransportSecurity}"
`
    : ""
}    default_backend ${i.backendName}

backend ${i.backendName}
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host ${s.name}
    http-check expect status 200
    # Each retry goes to another server. Connection failures are always safe to retry; the other
    # failures replay a request the server may have seen, so only idempotent methods get them.
    # L7 retries need the request in one buffer: bodies over tune.bufsize (16 kB) are never replayed.
    retries ${i.retries}
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 503
    http-request disable-l7-retry unless { method ${idempotentMethods} }
    http-reuse safe
    default-server check inter ${ms(c.intervalMs)} fastinter ${ms(c.intervalMs)} downinter ${ms(c.intervalMs)} fall ${c.fall} rise ${c.rise} pool-purge-delay ${ms(i.poolPurgeDelayMs)}
${servers.join("\n")}
`;
}

/**
 * The load balancer's check of this node: HAProxy answers `monitor-uri` itself (200), or 503 while
 * `monitor fail` holds, here: no usable server in the backend. A node that reaches no service host
 * so leaves the load balancer instead of passing a TCP check and answering 503 to clients.
 */
function healthFrontend(h: HealthFrontend, backend: string): string {
  return `frontend health
    bind ${h.address}:${h.port}
    option dontlog-normal
    monitor-uri ${h.uri}
    monitor fail if { nbsrv(${backend}) lt 1 }
    http-request deny deny_status 404

`;
}
