// The service's configuration, read once from the environment and validated before anything starts.
// A bad value stops the process with one line naming the variable and exit code 78 (EX_CONFIG).
import { availableParallelism } from "node:os";
import { z } from "zod";
import { checkServiceSettings, serviceDefaults } from "../contract/service";

export const EX_CONFIG = 78;

const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`))
    .default(fallback);

const text = (fallback?: string) => (fallback === undefined ? z.string().optional() : z.string().default(fallback));

const schema = z.object({
  PORT: int(1, 65535, serviceDefaults.port),
  HOST: z.string().regex(/^[A-Za-z0-9.:-]+$/, "must be an IP address or host name").default("0.0.0.0"),
  WORKERS: int(1, 1024, availableParallelism()),
  DRAIN_DELAY_MS: int(0, 3_600_000, serviceDefaults.drainDelayMs),
  SHUTDOWN_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.shutdownTimeoutMs),
  KEEP_ALIVE_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.keepAliveTimeoutMs),
  HEADERS_TIMEOUT_MS: int(1, 3_600_000, serviceDefaults.headersTimeoutMs),
  // Node's own default; must not be below HEADERS_TIMEOUT_MS (Node refuses that).
  REQUEST_TIMEOUT_MS: int(0, 3_600_000, 300_000),
  MAX_BODY_BYTES: int(1, 100 * 1024 * 1024, 64 * 1024),
  METRICS_INTERVAL_MS: int(50, 3_600_000, 10_000),
  DISK_PATH: text(__dirname),
  DD_AGENT_HOST: z.string().regex(/^[A-Za-z0-9.:-]+$/, "must be an IP address or host name").default("127.0.0.1"),
  DD_DOGSTATSD_PORT: int(1, 65535, 8125),
  DD_ENV: text(),
  DD_SERVICE: text(serviceDefaults.name),
  DD_VERSION: text(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  // A crash loop: this many worker exits within the window stops the primary (systemd takes over).
  CRASH_LOOP_MAX: int(1, 10_000, 10),
  CRASH_LOOP_WINDOW_MS: int(1, 3_600_000, 60_000),
  // Debug routes (/debug/block, /debug/crash) exist only when this is 1; tests use them.
  DEBUG_ROUTES: z.enum(["0", "1"], "must be 0 or 1").default("0"),
  // The request log carries the path and the query's keys; 1 logs whole URLs, query values included.
  LOG_FULL_URL: z.enum(["0", "1"], "must be 0 or 1").default("0"),
});

export interface Config {
  port: number;
  host: string;
  workers: number;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
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

// Setting names of contract/service.ts -> the variable a user sets.
const settingVariable: Record<string, string> = {
  port: "PORT",
  workers: "WORKERS",
  drainDelayMs: "DRAIN_DELAY_MS",
  shutdownTimeoutMs: "SHUTDOWN_TIMEOUT_MS",
  keepAliveTimeoutMs: "KEEP_ALIVE_TIMEOUT_MS",
  headersTimeoutMs: "HEADERS_TIMEOUT_MS",
};

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
  const problems = checkServiceSettings({
    name: serviceDefaults.name,
    port: e.PORT,
    workers: e.WORKERS,
    drainDelayMs: e.DRAIN_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
  }).map((p) => p.replace(/\b(\w+)\b/g, (w: string) => settingVariable[w] ?? w));
  if (e.REQUEST_TIMEOUT_MS !== 0 && e.REQUEST_TIMEOUT_MS < e.HEADERS_TIMEOUT_MS)
    problems.push(`REQUEST_TIMEOUT_MS: ${e.REQUEST_TIMEOUT_MS} must be 0 or >= HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS})`);
  if (problems.length > 0) return { error: `invalid configuration: ${problems[0]}` };

  const globalTags = [`service:${e.DD_SERVICE}`];
  if (e.DD_ENV) globalTags.push(`env:${e.DD_ENV}`);
  if (e.DD_VERSION) globalTags.push(`version:${e.DD_VERSION}`);
  return {
    config: {
      port: e.PORT,
      host: e.HOST,
      workers: e.WORKERS,
      drainDelayMs: e.DRAIN_DELAY_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      metricsIntervalMs: e.METRICS_INTERVAL_MS,
      diskPath: e.DISK_PATH ?? __dirname,
      agentHost: e.DD_AGENT_HOST,
      agentPort: e.DD_DOGSTATSD_PORT,
      globalTags,
      service: e.DD_SERVICE ?? serviceDefaults.name,
      version: e.DD_VERSION,
      logLevel: e.LOG_LEVEL,
      crashLoopMax: e.CRASH_LOOP_MAX,
      crashLoopWindowMs: e.CRASH_LOOP_WINDOW_MS,
      debugRoutes: e.DEBUG_ROUTES === "1",
      logFullUrl: e.LOG_FULL_URL === "1",
    },
  };
}
