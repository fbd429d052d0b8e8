// The one table between a service setting and the environment variable the app reads it from.
// The host's env file (host/files.ts) writes these names; app/config.ts reads them.
import type { ServiceSettings } from "./service";

/** Setting -> environment variable, for every setting the app reads from its environment. */
export const settingVariables = {
  port: "PORT",
  workers: "WORKERS",
  drainDelayMs: "DRAIN_DELAY_MS",
  shutdownTimeoutMs: "SHUTDOWN_TIMEOUT_MS",
  keepAliveTimeoutMs: "KEEP_ALIVE_TIMEOUT_MS",
  headersTimeoutMs: "HEADERS_TIMEOUT_MS",
} as const satisfies Partial<Record<keyof ServiceSettings, string>>;

export type EnvSetting = keyof typeof settingVariables;

/** The environment the app needs for these settings. Secrets are never part of it. */
export function serviceEnv(s: ServiceSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [setting, variable] of Object.entries(settingVariables)) {
    const value = s[setting as EnvSetting];
    if (value !== undefined) env[variable] = String(value);
  }
  return env;
}
