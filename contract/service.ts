// The service's timing and naming settings: their defaults and the rules that tie load balancer,
// service and systemd timings together. The app, the renderers, the components and the stack program
// all read them from here; contract/env.ts maps them to the app's environment variables.
import { withDefaults } from "./defaults";
import { FieldNames, Problem, ownNames } from "./problem";

export interface ServiceSettings {
  /** Unit name, system user, log folder, SyslogIdentifier and DD_SERVICE. */
  name: string;
  port: number;
  /** Workers per host; undefined means one per core. */
  workers?: number;
  /** Time readiness fails while the worker still serves, so the LB stops sending first. */
  drainDelayMs: number;
  /** Overall deadline of a graceful shutdown, drain delay included. */
  shutdownTimeoutMs: number;
  /** Must stay above every load balancer idle timeout in front of the service. */
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
}

export const serviceDefaults: ServiceSettings = {
  name: "sample-api",
  port: 3000,
  drainDelayMs: 10_000,
  shutdownTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 66_000,
};

export function withServiceDefaults(partial: Partial<ServiceSettings> = {}): ServiceSettings {
  return withDefaults(serviceDefaults, partial);
}

/** systemd's TimeoutStopSec: the service's own deadline plus room for SIGKILL of stragglers. */
export function stopTimeoutSec(s: ServiceSettings): number {
  return Math.ceil(s.shutdownTimeoutMs / 1000) + 10;
}

/**
 * Problems with a settings combination, each with the setting to change and the fix; empty when valid.
 * `names` is how the caller names the settings a message mentions (default: these field names).
 */
export function checkServiceSettings(s: ServiceSettings, names: FieldNames = ownNames): Problem[] {
  const problems: Problem[] = [];
  const problem = (field: keyof ServiceSettings, message: string) => problems.push({ field, message });
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(s.name))
    problem("name", `"${s.name}" must be 2-32 lowercase letters, digits or dashes, starting with a letter`);
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
    problem("port", `${s.port} must be an integer 1-65535`);
  if (s.workers !== undefined && (!Number.isInteger(s.workers) || s.workers < 1))
    problem("workers", `${s.workers} must be a positive integer`);
  if (s.drainDelayMs < 0) problem("drainDelayMs", `${s.drainDelayMs} must be >= 0`);
  if (s.shutdownTimeoutMs <= s.drainDelayMs)
    problem(
      "shutdownTimeoutMs",
      `${s.shutdownTimeoutMs} must exceed ${names("drainDelayMs")} (${s.drainDelayMs}) so in-flight requests can finish`,
    );
  if (s.headersTimeoutMs <= s.keepAliveTimeoutMs)
    problem(
      "headersTimeoutMs",
      `${s.headersTimeoutMs} must exceed ${names("keepAliveTimeoutMs")} (${s.keepAliveTimeoutMs})`,
    );
  return problems;
}

/** The load balancer values checkLoadBalancerTimings ties to the service's timings. */
export interface LoadBalancerTimings {
  idleTimeoutSec: number;
  deregistrationDelaySec: number;
}

/**
 * Rules tying a load balancer in front of the service to its timings; empty when valid.
 * The service must keep idle connections open longer than the LB does (or the LB reuses a socket the
 * service just closed: 502), and the LB must keep a leaving target registered longer than the
 * service's drain delay but give up before systemd kills the process.
 */
export function checkLoadBalancerTimings(
  s: ServiceSettings,
  lb: LoadBalancerTimings,
  names: FieldNames = ownNames,
): Problem[] {
  const problems: Problem[] = [];
  const [keepAlive, idle] = [names("keepAliveTimeoutMs"), names("idleTimeoutSec")];
  if (s.keepAliveTimeoutMs <= lb.idleTimeoutSec * 1000)
    problems.push({
      field: "keepAliveTimeoutMs",
      message: `${s.keepAliveTimeoutMs} must exceed the load balancer idle timeout (${lb.idleTimeoutSec} s = ${lb.idleTimeoutSec * 1000} ms): raise ${keepAlive} or lower ${idle}`,
    });
  const drainSec = s.drainDelayMs / 1000;
  const stopSec = stopTimeoutSec(s);
  if (lb.deregistrationDelaySec <= drainSec || lb.deregistrationDelaySec >= stopSec)
    problems.push({
      field: "deregistrationDelaySec",
      message: `${lb.deregistrationDelaySec} must be above ${names("drainDelayMs")} (${drainSec} s) and below the systemd stop timeout (${stopSec} s, from ${names("shutdownTimeoutMs")})`,
    });
  return problems;
}
