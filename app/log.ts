// One logger per process: info and below to stdout (the request log), warn and above to stderr.
// stdout is buffered and written in blocks of 4 KiB (or every 100 ms), because one write(2) per
// request line was the largest cost after the response itself (bench/app.ts); the buffer is written
// synchronously when the process exits, so a graceful shutdown, a crash handled by the worker or
// an exit caused by the primary's death loses nothing. stderr is written line by line.
import pino from "pino";

export type Logger = pino.Logger;

const FLUSH_EVERY_MS = 100;

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const options = { level, base: { pid: process.pid, ...bindings } };
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096, maxLength: 16 * 1024 * 1024 });
  setInterval(() => stdout.flush(), FLUSH_EVERY_MS).unref();
  const out = pino(options, stdout);
  const err = pino(options, pino.destination({ dest: 2, sync: true }));
  // Routing by method rather than pino.multistream keeps the request path free of per-line
  // stream selection (measured: multistream cost 25% more per request line).
  out.warn = err.warn.bind(err);
  out.error = err.error.bind(err);
  out.fatal = err.fatal.bind(err);
  const flushOut = out.flush.bind(out);
  out.flush = (cb?: (e?: Error) => void) => {
    err.flush();
    flushOut(cb);
  };
  return out;
}

/**
 * The URL as the request log carries it: the path and the query's keys (`/p?token&x` for
 * `/p?token=secret&x=1`), since query values (tokens, e-mail addresses) would reach journald, the log
 * files, Papertrail and Datadog. `full` (LOG_FULL_URL=1) logs the URL as received.
 */
export function loggedUrl(url: string, full: boolean): string {
  const q = url.indexOf("?");
  if (full || q === -1 || !url.includes("=", q)) return url;
  let out = url.slice(0, q + 1);
  for (const [n, pair] of url
    .slice(q + 1)
    .split("&")
    .entries()) {
    const eq = pair.indexOf("=");
    out += (n > 0 ? "&" : "") + (eq === -1 ? pair : pair.slice(0, eq));
  }
  return out;
}
