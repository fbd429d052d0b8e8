import { describe, expect, it } from "vitest";
import { serviceEnv } from "./env";
import { namesFrom } from "./problem";
import {
  checkLoadBalancerTimings,
  checkServiceSettings,
  serviceDefaults,
  stopTimeoutSec,
  withServiceDefaults,
} from "./service";

describe("service settings", () => {
  it("defaults are valid and keep the keep-alive above the ALB's 60 s idle timeout", () => {
    expect(checkServiceSettings(serviceDefaults)).toEqual([]);
    expect(serviceDefaults.keepAliveTimeoutMs).toBeGreaterThan(60_000);
  });

  it("renders the app's environment without undefined values", () => {
    const env = serviceEnv(withServiceDefaults({ port: 8080, workers: undefined }));
    expect(env).toMatchObject({ PORT: "8080", DRAIN_DELAY_MS: "10000", SHUTDOWN_TIMEOUT_MS: "30000" });
    expect(env).not.toHaveProperty("WORKERS");
    expect(serviceEnv(withServiceDefaults({ workers: 2 })).WORKERS).toBe("2");
  });

  it("gives systemd more time to stop than the service's own deadline", () => {
    expect(stopTimeoutSec(withServiceDefaults({ shutdownTimeoutMs: 30_500 }))).toBeGreaterThan(30.5);
  });

  it.each([
    [{ name: "Bad Name" }, "name"],
    [{ port: 0 }, "port"],
    [{ workers: 0 }, "workers"],
    [{ drainDelayMs: -1 }, "drainDelayMs"],
    [{ drainDelayMs: 30_000, shutdownTimeoutMs: 30_000 }, "shutdownTimeoutMs"],
    [{ headersTimeoutMs: 65_000 }, "headersTimeoutMs"],
  ])("refuses %o naming the setting %s", (partial, field) => {
    const problems = checkServiceSettings(withServiceDefaults(partial));
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0]!.message.startsWith(field)).toBe(false);
  });

  it("names the other settings a message mentions the caller's way", () => {
    const names = namesFrom({ drainDelayMs: "DRAIN", keepAliveTimeoutMs: "KEEP_ALIVE" });
    const bad = withServiceDefaults({ drainDelayMs: 30_000, shutdownTimeoutMs: 30_000, headersTimeoutMs: 65_000 });
    expect(checkServiceSettings(bad).map((p) => p.message)).toEqual([
      "30000 must exceed drainDelayMs (30000) so in-flight requests can finish",
      "65000 must exceed keepAliveTimeoutMs (65000)",
    ]);
    expect(checkServiceSettings(bad, names).map((p) => p.message)).toEqual([
      "30000 must exceed DRAIN (30000) so in-flight requests can finish",
      "65000 must exceed KEEP_ALIVE (65000)",
    ]);
  });

  it("ties the load balancer's idle timeout and deregistration delay to the service's timings", () => {
    expect(checkLoadBalancerTimings(serviceDefaults, { idleTimeoutSec: 60, deregistrationDelaySec: 30 })).toEqual([]);
    const problems = checkLoadBalancerTimings(
      serviceDefaults,
      { idleTimeoutSec: 65, deregistrationDelaySec: 40 },
      namesFrom({ idleTimeoutSec: "idle" }),
    );
    expect(problems.map((p) => p.field)).toEqual(["keepAliveTimeoutMs", "deregistrationDelaySec"]);
    expect(problems[0]!.message).toMatch(/raise keepAliveTimeoutMs or lower idle$/);
  });
});
