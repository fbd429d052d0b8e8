// DogStatsD metrics over UDP to the local Datadog agent, through hot-shots.
// Per-request cost must stay tiny, so nothing is sent per call: counts and timings are aggregated
// here per context (name + tags) and sent once per flush: a count as one total, timings as one
// multi-value line (DogStatsD protocol 1.1) capped by reservoir sampling with the sample rate stated.
// Gauges (a few per interval) use hot-shots' own client-side aggregation. No call ever throws into
// request handling: send errors go to the error handler.
import StatsDClient, { type StatsD } from "hot-shots";

export type Tags = readonly string[];

export interface MetricsOptions {
  host: string;
  port: number;
  /** Prepended to every name, e.g. "app." */
  prefix: string;
  globalTags: string[];
  flushIntervalMs: number;
  onError: (err: Error) => void;
}

interface TimingContext {
  name: string;
  tags: Tags;
  values: number[];
  seen: number;
}

interface CountContext {
  name: string;
  tags: Tags;
  total: number;
}

interface RawSender {
  send(message: string, tags: string[]): void;
}

const MAX_SAMPLES_PER_FLUSH = 100; // one line stays well under a 1432-byte datagram's worth of values

let client: StatsD | undefined;
let prefix = "";
let timer: NodeJS.Timeout | undefined;
const timings = new Map<string, TimingContext>();
const counts = new Map<string, CountContext>();

// Callers on hot paths reuse their tag arrays, so the joined key is computed once per array.
const tagKeys = new WeakMap<Tags, string>();
function contextKey(name: string, tags: Tags): string {
  let k = tagKeys.get(tags);
  if (k === undefined) tagKeys.set(tags, (k = tags.join(",")));
  return `${name}|${k}`;
}
const NO_TAGS: Tags = [];

export function startMetrics(o: MetricsOptions): void {
  prefix = o.prefix;
  client = new StatsDClient({
    host: o.host,
    port: o.port,
    prefix: o.prefix,
    globalTags: o.globalTags,
    includeDataDogTags: false, // env/service/version come from the validated config
    includeDatadogTelemetry: false,
    cacheDns: true,
    maxBufferSize: 1432,
    bufferFlushInterval: o.flushIntervalMs,
    aggregation: { flushInterval: o.flushIntervalMs },
    errorHandler: o.onError,
  });
  timer = setInterval(flush, o.flushIntervalMs);
  timer.unref();
}

export function increment(name: string, tags: Tags = NO_TAGS, value = 1): void {
  if (!client) return;
  const key = contextKey(name, tags);
  const ctx = counts.get(key);
  if (ctx) ctx.total += value;
  else counts.set(key, { name, tags, total: value });
}

export function gauge(name: string, value: number, tags?: Tags): void {
  try {
    client?.gauge(name, value, tags as string[] | undefined);
  } catch {
    // metrics never break a request
  }
}

export function timing(name: string, ms: number, tags: Tags = NO_TAGS): void {
  if (!client) return;
  const key = contextKey(name, tags);
  let ctx = timings.get(key);
  if (!ctx) timings.set(key, (ctx = { name, tags, values: [], seen: 0 }));
  ctx.seen++;
  if (ctx.values.length < MAX_SAMPLES_PER_FLUSH) ctx.values.push(ms);
  else {
    const i = Math.floor(Math.random() * ctx.seen);
    if (i < MAX_SAMPLES_PER_FLUSH) ctx.values[i] = ms;
  }
}

function flush(): void {
  if (!client) return;
  for (const ctx of counts.values()) {
    try {
      client.increment(ctx.name, ctx.total, ctx.tags as string[]);
    } catch {
      // dropped; the error handler has been told
    }
  }
  counts.clear();
  for (const ctx of timings.values()) {
    const values = ctx.values.map((v) => Math.round(v * 1000) / 1000).join(":");
    const rate = ctx.values.length < ctx.seen ? `|@${(ctx.values.length / ctx.seen).toPrecision(4)}` : "";
    try {
      // hot-shots' send() (untyped) appends global tags and buffers like every other metric.
      (client as unknown as RawSender).send(`${prefix}${ctx.name}:${values}|ms${rate}`, ctx.tags as string[]);
    } catch {
      // dropped; the error handler has been told
    }
  }
  timings.clear();
}

/** Sends everything pending (aggregates, timings, buffer) and closes the socket; bounded by timeoutMs. */
export async function closeMetrics(timeoutMs: number): Promise<void> {
  if (!client) return;
  if (timer) clearInterval(timer);
  flush();
  const c = client;
  client = undefined;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    try {
      c.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}
