// The rules a haproxy.cfg input must pass before it is rendered: names and addresses HAProxy accepts,
// and the timings that make a rolling deploy lossless. Each problem names its field.
import { Problem, nested } from "../../contract/problem";
import { checkServiceSettings } from "../../contract/service";
import type { HaproxyConfigInput, HealthCheckTiming } from "./config";

/**
 * Worst time from /readyz failing to HAProxy marking the server DOWN: the next check starts at most
 * one interval later and `fall` checks, each taking up to its timeout, must fail in a row.
 */
export function checkDetectionMs(c: HealthCheckTiming): number {
  return c.fall * (c.intervalMs + c.timeoutMs);
}

const nameRe = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
const hostRe = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const ipv4Re = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const isPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
const isPosInt = (n: number) => Number.isInteger(n) && n > 0;

/** Problems with an input, each with its field (`servers[0].port`, `service.drainDelayMs`, ...) and the fix; empty when valid. */
export function checkHaproxyConfig(i: HaproxyConfigInput): Problem[] {
  const problems = nested("service", checkServiceSettings(i.service));
  const problem = (field: string, message: string) => problems.push({ field, message });
  const { check: c, timeouts: t } = i;

  if ((i.servers === undefined) === (i.serverTemplate === undefined))
    problem("servers", "give exactly one of servers (a fixed list) and serverTemplate (DNS discovery)");
  if (i.servers !== undefined) {
    if (i.servers.length === 0) problem("servers", "the list is empty");
    const seen = new Set<string>();
    i.servers.forEach((s, n) => {
      if (!nameRe.test(s.name))
        problem(`servers[${n}].name`, `"${s.name}" must be a letter then letters, digits, _ . -`);
      if (seen.has(s.name)) problem(`servers[${n}].name`, `"${s.name}" is used twice`);
      seen.add(s.name);
      if (!hostRe.test(s.address))
        problem(`servers[${n}].address`, `"${s.address}" is not an IPv4 address or host name`);
      if (!isPort(s.port)) problem(`servers[${n}].port`, `${s.port} must be an integer 1-65535`);
    });
  }
  const st = i.serverTemplate;
  if (st !== undefined) {
    if (!nameRe.test(st.prefix))
      problem("serverTemplate.prefix", `"${st.prefix}" must be a letter then letters, digits, _ . -`);
    if (!isPosInt(st.count) || st.count > 1000)
      problem("serverTemplate.count", `${st.count} must be an integer 1-1000`);
    if (!hostRe.test(st.dnsName) || !st.dnsName.includes("."))
      problem("serverTemplate.dnsName", `"${st.dnsName}" must be a DNS name`);
    if (!isPort(st.port)) problem("serverTemplate.port", `${st.port} must be an integer 1-65535`);
    const [ip, port] = st.nameserver.split(":");
    if (!ipv4Re.test(ip ?? "") || !isPort(Number(port)))
      problem("serverTemplate.nameserver", `"${st.nameserver}" must be ip:port, e.g. 169.254.169.253:53`);
  }

  if (!ipv4Re.test(i.frontend.address)) problem("frontend.address", `"${i.frontend.address}" must be an IPv4 address`);
  if (!isPort(i.frontend.port)) problem("frontend.port", `${i.frontend.port} must be an integer 1-65535`);
  // The stats page exposes server names and admin-free state: never beyond the host.
  if (!/^127\./.test(i.stats.address) || !ipv4Re.test(i.stats.address))
    problem("stats.address", `"${i.stats.address}" must be a loopback address (127.x.x.x)`);
  if (!isPort(i.stats.port)) problem("stats.port", `${i.stats.port} must be an integer 1-65535`);
  if (i.stats.port === i.frontend.port && i.stats.address === i.frontend.address)
    problem("stats.port", `${i.stats.port} is the frontend's port`);
  const h = i.health;
  if (h !== undefined) {
    if (!ipv4Re.test(h.address)) problem("health.address", `"${h.address}" must be an IPv4 address`);
    if (!isPort(h.port)) problem("health.port", `${h.port} must be an integer 1-65535`);
    for (const [other, p] of [
      ["frontend", i.frontend.port],
      ["stats", i.stats.port],
    ] as const)
      if (h.port === p) problem("health.port", `${h.port} is the ${other}'s port`);
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(h.uri))
      problem("health.uri", `"${h.uri}" must be a path: / then letters, digits, . _ ~ / -`);
  }
  for (const [k, v] of [
    ["adminSocket", i.adminSocket],
    ["serverStateFile", i.serverStateFile],
  ] as const)
    if (!v.startsWith("/") || /\s/.test(v)) problem(k, `"${v}" must be an absolute path without spaces`);
  if (i.adminSocket.length > 100)
    problem("adminSocket", `"${i.adminSocket}" is longer than a unix socket path may be (100)`);
  if (!nameRe.test(i.backendName))
    problem("backendName", `"${i.backendName}" must be a letter then letters, digits, _ . -`);
  if (i.log !== "journal" && i.log !== "stdout") problem("log", `"${String(i.log)}" must be journal or stdout`);
  for (const [k, v] of [
    ["logFullUrl", i.logFullUrl],
    ["https", i.https],
  ] as const)
    if (typeof v !== "boolean") problem(k, `${String(v)} must be true or false`);

  const counts = {
    check: c,
    timeouts: t,
    "": { poolPurgeDelayMs: i.poolPurgeDelayMs, hardStopAfterMs: i.hardStopAfterMs, maxconn: i.maxconn },
  };
  for (const [group, values] of Object.entries(counts))
    for (const [k, v] of Object.entries(values))
      if (!isPosInt(v)) problem(group ? `${group}.${k}` : k, `${v} must be a positive integer`);
  if (!Number.isInteger(i.retries) || i.retries < 1 || i.retries > 10)
    problem("retries", `${i.retries} must be an integer 1-10`);

  // Lossless drain: HAProxy must mark a draining server DOWN while it still serves.
  const detect = checkDetectionMs(c);
  if (problems.length === 0 && detect >= i.service.drainDelayMs)
    problem(
      "service.drainDelayMs",
      `${i.service.drainDelayMs} ms is too short: HAProxy needs up to fall*(inter+timeout) = ` +
        `${c.fall}*(${c.intervalMs}+${c.timeoutMs}) = ${detect} ms to stop sending to a draining server; ` +
        `raise drainDelayMs above ${detect} or shorten the check interval`,
    );
  // An idle connection the service closes while HAProxy reuses it loses the request: HAProxy closes first.
  if (t.httpKeepAliveMs >= i.service.keepAliveTimeoutMs)
    problem(
      "timeouts.httpKeepAliveMs",
      `${t.httpKeepAliveMs} must be below service.keepAliveTimeoutMs (${i.service.keepAliveTimeoutMs})`,
    );
  if (i.poolPurgeDelayMs >= i.service.keepAliveTimeoutMs)
    problem(
      "poolPurgeDelayMs",
      `${i.poolPurgeDelayMs} must be below service.keepAliveTimeoutMs (${i.service.keepAliveTimeoutMs})`,
    );
  if (t.serverMs < i.service.shutdownTimeoutMs)
    problem(
      "timeouts.serverMs",
      `${t.serverMs} must be at least service.shutdownTimeoutMs (${i.service.shutdownTimeoutMs}), the longest a request may run`,
    );
  if (i.hardStopAfterMs < t.serverMs || i.hardStopAfterMs > 15 * 60_000)
    problem(
      "hardStopAfterMs",
      `${i.hardStopAfterMs} must be between timeouts.serverMs (${t.serverMs}) and 900000 (15 min)`,
    );
  if ((i.user === undefined) !== (i.group === undefined))
    problem(i.user === undefined ? "user" : "group", `is missing: give both user and group, or neither`);
  for (const [k, v] of [
    ["user", i.user],
    ["group", i.group],
  ] as const)
    if (v !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) problem(k, `"${v}" is not a valid account name`);
  return problems;
}
