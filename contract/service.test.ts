import { describe, expect, it } from "vitest";
import { serviceEnv } from "./env";
import { checkServiceSettings, serviceDefaults, stopTimeoutSec, withServiceDefaults } from "./service";

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
    [{ name: "Bad Name" }, /^name:/],
    [{ port: 0 }, /^port:/],
    [{ workers: 0 }, /^workers:/],
    [{ drainDelayMs: -1 }, /^drainDelayMs:/],
    [{ drainDelayMs: 30_000, shutdownTimeoutMs: 30_000 }, /^shutdownTimeoutMs:.*drainDelayMs/],
    [{ headersTimeoutMs: 65_000 }, /^headersTimeoutMs:/],
  ])("refuses %o naming the setting", (partial, message) => {
    const errors = checkServiceSettings(withServiceDefaults(partial));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });
});
