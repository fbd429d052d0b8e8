// The service's configuration, read once from the environment and validated before anything starts.
// A bad value stops the process with one line naming the variable and exit code 78 (EX_CONFIG,
// app/protocol.ts). The service settings are read through contract/env.ts's setting <-> variable table.
import { availableParallelism } from "node:os";
import { z } from "zod";
import { EnvSetting, settingVariables } from "../contract/env";
import { formatProblem, namesFrom, renameFields } from "../contract/problem";
import { ServiceSettings, checkServiceSettings, serviceDefaults } from "../contract/service";

const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`))
    .default(fallback);

const schema = z.object({
  PORT: int(1, 65535, serviceDefaults.port),
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, "must be an IP address or host name")
    .default("0.0.0.0"),
  WORKERS: int(1, 1024, availableParallelism()),
  DRAIN_DELAY_MS: int(0, 3_600_000, serviceDefaults.drainDelayMs),
  SHUTDOWN_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.shutdownTimeoutMs),
  KEEP_ALIVE_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.keepAliveTimeoutMs),
  HEADERS_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.headersTimeoutMs),
  // Node's own default; must not be below HEADERS_TIMEOUT_MS (Node refuses that).
  REQUEST_TIMEOUT_MS: int(0, 3_600_000, 300_000),
  MAX_BODY_BYTES: int(1, 100 * 1024 * 1024, 64 * 1024),
  METRICS_INTERVAL_MS: int(50, 3_600_000, 10_000),
  DISK_PATH: z.string().default(__dirname),
  DD_AGENT_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, "must be an IP address or host name")
    .default("127.0.0.1"),
  DD_DOGSTATSD_PORT: int(1, 65535, 8125),
  DD_ENV: z.string().optional(),
  DD_SERVICE: z.string().default(serviceDefaults.name),
  DD_VERSION: z.string().optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  // A crash loop: this many worker exits within the window stops the primary (systemd takes over).
  CRASH_LOOP_MAX: int(1, 10_000, 10),
  CRASH_LOOP_WINDOW_MS: int(1, 3_600_000, 60_000),
  // Debug routes (/debug/block, /debug/crash) exist only when this is 1; tests use them.
  DEBUG_ROUTES: z.enum(["0", "1"], "must be 0 or 1").default("0"),
  // The request log carries the path and the query's keys; 1 logs whole URLs, query values included.
  LOG_FULL_URL: z.enum(["0", "1"], "must be 0 or 1").default("0"),
});

/** The service settings the app reads from its environment, each set (WORKERS defaults to one per core). */
export type AppSettings = Required<Pick<ServiceSettings, EnvSetting>>;

export interface Config extends AppSettings {
  host: string;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  metricsIntervalMs: number;
  diskPath: string;
  agentHost: string;
  agentPort: number;
  /** env:, service:, version: tags on every metric. */
  globalTags: string[];
  service: string;
  version: string | undefined;
  logLevel: string;
  crashLoopMax: number;
  crashLoopWindowMs: number;
  debugRoutes: boolean;
  logFullUrl: boolean;
}

/** A setting's field (contract/service.ts) -> the variable a user sets, from the contract's one table. */
const variableOf = namesFrom(settingVariables);

/** The settings, each from its variable of the table; the type makes the schema parse every one to a number. */
function settingsOf(e: Record<(typeof settingVariables)[EnvSetting], number>): AppSettings {
  const entries = Object.entries(settingVariables) as [EnvSetting, keyof typeof e][];
  return Object.fromEntries(entries.map(([setting, variable]) => [setting, e[variable]])) as AppSettings;
}

/** The config, or one line naming what is wrong. */
export function parseConfig(env: NodeJS.ProcessEnv): { config: Config } | { error: string } {
  // An empty value (e.g. `DD_VERSION=` in an env file) means unset.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    return { error: `invalid configuration: ${name}=${JSON.stringify(env[name] ?? "")} ${issue.message}` };
  }
  const e = parsed.data;
  const settings = settingsOf(e);
  // The name is not the app's to choose (DD_SERVICE only tags metrics): the default always passes.
  const problems = renameFields(
    checkServiceSettings({ ...settings, name: serviceDefaults.name }, variableOf),
    variableOf,
  );
  if (e.REQUEST_TIMEOUT_MS !== 0 && e.REQUEST_TIMEOUT_MS < e.HEADERS_TIMEOUT_MS)
    problems.push({
      field: "REQUEST_TIMEOUT_MS",
      message: `${e.REQUEST_TIMEOUT_MS} must be 0 or >= HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS})`,
    });
  if (problems.length > 0) return { error: `invalid configuration: ${formatProblem(problems[0]!)}` };

  const globalTags = [`service:${e.DD_SERVICE}`];
  if (e.DD_ENV) globalTags.push(`env:${e.DD_ENV}`);
  if (e.DD_VERSION) globalTags.push(`version:${e.DD_VERSION}`);
  return {
    config: {
      ...settings,
      host: e.HOST,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      metricsIntervalMs: e.METRICS_INTERVAL_MS,
      diskPath: e.DISK_PATH,
      agentHost: e.DD_AGENT_HOST,
      agentPort: e.DD_DOGSTATSD_PORT,
      globalTags,
      service: e.DD_SERVICE,
      version: e.DD_VERSION,
      logLevel: e.LOG_LEVEL,
      crashLoopMax: e.CRASH_LOOP_MAX,
      crashLoopWindowMs: e.CRASH_LOOP_WINDOW_MS,
      debugRoutes: e.DEBUG_ROUTES === "1",
      logFullUrl: e.LOG_FULL_URL === "1",
    },
  };
}
