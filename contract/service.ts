// The service's timing and naming settings: their defaults and the rules that tie load balancer,
// service and systemd timings together. The app, the renderers, the components and the stack program
// all read them from here; contract/env.ts maps them to the app's environment variables.
import { withDefaults } from "./defaults";

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

/** Problems with a settings combination, each naming the setting and the fix; empty when valid. */
export function checkServiceSettings(s: ServiceSettings): string[] {
  const errors: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(s.name))
    errors.push(`name: "${s.name}" must be 2-32 lowercase letters, digits or dashes, starting with a letter`);
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) errors.push(`port: ${s.port} must be an integer 1-65535`);
  if (s.workers !== undefined && (!Number.isInteger(s.workers) || s.workers < 1))
    errors.push(`workers: ${s.workers} must be a positive integer`);
  if (s.drainDelayMs < 0) errors.push(`drainDelayMs: ${s.drainDelayMs} must be >= 0`);
  if (s.shutdownTimeoutMs <= s.drainDelayMs)
    errors.push(`shutdownTimeoutMs: ${s.shutdownTimeoutMs} must exceed drainDelayMs (${s.drainDelayMs}) so in-flight requests can finish`);
  if (s.headersTimeoutMs <= s.keepAliveTimeoutMs)
    errors.push(`headersTimeoutMs: ${s.headersTimeoutMs} must exceed keepAliveTimeoutMs (${s.keepAliveTimeoutMs})`);
  return errors;
}

/**
 * Rules tying a load balancer in front of the service to its timings; empty when valid.
 * The service must keep idle connections open longer than the LB does (or the LB reuses a socket the
 * service just closed: 502), and the LB must keep a leaving target registered longer than the
 * service's drain delay but give up before systemd kills the process.
 */
export function checkLoadBalancerTimings(s: ServiceSettings, lb: { idleTimeoutSec: number; deregistrationDelaySec: number }): string[] {
  const errors: string[] = [];
  if (s.keepAliveTimeoutMs <= lb.idleTimeoutSec * 1000)
    errors.push(`keepAliveTimeoutMs: ${s.keepAliveTimeoutMs} must exceed the load balancer idle timeout (${lb.idleTimeoutSec} s = ${lb.idleTimeoutSec * 1000} ms): raise keepAliveTimeoutMs or lower idleTimeoutSec`);
  const drainSec = s.drainDelayMs / 1000;
  const stopSec = stopTimeoutSec(s);
  if (lb.deregistrationDelaySec <= drainSec || lb.deregistrationDelaySec >= stopSec)
    errors.push(`deregistrationDelaySec: ${lb.deregistrationDelaySec} must be above drainDelayMs (${drainSec} s) and below the systemd stop timeout (${stopSec} s, from shutdownTimeoutMs)`);
  return errors;
}
