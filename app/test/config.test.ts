// Bad configuration stops the service at once with one line naming the variable, exit code 78.
import { afterAll, describe, expect, it } from "vitest";
import { settingVariables } from "../../contract/env";
import { parseConfig } from "../config";
import { removeBundle, startService, stopAll } from "./harness";

afterAll(async () => {
  await stopAll();
  removeBundle();
});

describe("configuration", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: "abc" }, /^invalid configuration: PORT="abc" must be a whole number$/],
    [{ PORT: "70000" }, /^invalid configuration: PORT="70000" must be <= 65535$/],
    [{ DRAIN_DELAY_MS: "-1" }, /^invalid configuration: DRAIN_DELAY_MS="-1" must be a whole number$/],
    [{ WORKERS: "0" }, /^invalid configuration: WORKERS="0" must be >= 1$/],
    [{ LOG_LEVEL: "loud" }, /^invalid configuration: LOG_LEVEL="loud" /],
    [{ DEBUG_ROUTES: "yes" }, /^invalid configuration: DEBUG_ROUTES="yes" must be 0 or 1$/],
    [
      { KEEP_ALIVE_TIMEOUT_MS: "70000", HEADERS_TIMEOUT_MS: "66000" },
      /^invalid configuration: HEADERS_TIMEOUT_MS: 66000 must exceed KEEP_ALIVE_TIMEOUT_MS \(70000\)$/,
    ],
    [
      { DRAIN_DELAY_MS: "5000", SHUTDOWN_TIMEOUT_MS: "4000" },
      /^invalid configuration: SHUTDOWN_TIMEOUT_MS: 4000 must exceed DRAIN_DELAY_MS/,
    ],
    [
      { REQUEST_TIMEOUT_MS: "1000" },
      /^invalid configuration: REQUEST_TIMEOUT_MS: 1000 must be 0 or >= HEADERS_TIMEOUT_MS/,
    ],
  ];
  for (const [env, message] of bad) {
    it(`rejects ${JSON.stringify(env)}`, async () => {
      const svc = await startService(env, { waitWorkers: 0 });
      const { code } = await svc.exited;
      expect(code).toBe(78);
      const lines = svc.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1); // one line, no stack trace
      expect(lines[0]).toMatch(message);
      expect(svc.stdout).toBe("");
    });
  }

  it("treats an empty value as unset and starts", async () => {
    const svc = await startService({ DD_VERSION: "", LOG_LEVEL: "" });
    expect(svc.workerPids()).toHaveLength(1);
  });
});

describe("parseConfig", () => {
  it("names a settings problem by the variables of contract/env.ts, in front and inside the message", () => {
    expect(parseConfig({ DRAIN_DELAY_MS: "5000", SHUTDOWN_TIMEOUT_MS: "4000" })).toEqual({
      error:
        "invalid configuration: SHUTDOWN_TIMEOUT_MS: 4000 must exceed DRAIN_DELAY_MS (5000) so in-flight requests can finish",
    });
    const result = parseConfig({ KEEP_ALIVE_TIMEOUT_MS: "70000", HEADERS_TIMEOUT_MS: "66000" });
    expect(result).toEqual({
      error: `invalid configuration: ${settingVariables.headersTimeoutMs}: 66000 must exceed ${settingVariables.keepAliveTimeoutMs} (70000)`,
    });
  });

  it("reads every setting of the table from its variable", () => {
    const values: Record<keyof typeof settingVariables, number> = {
      port: 8080,
      workers: 3,
      drainDelayMs: 5000,
      shutdownTimeoutMs: 20_000,
      keepAliveTimeoutMs: 70_000,
      headersTimeoutMs: 71_000,
    };
    const setting = Object.keys(values) as (keyof typeof values)[];
    const result = parseConfig(Object.fromEntries(setting.map((k) => [settingVariables[k], String(values[k])])));
    if (!("config" in result)) throw new Error(result.error);
    for (const k of setting) expect(result.config[k], settingVariables[k]).toBe(values[k]);
  });
});
