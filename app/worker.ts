// A cluster worker: serves HTTP and shuts down gracefully in this order, all inside one deadline:
// readiness fails -> drain delay while still serving -> stop accepting -> in-flight requests finish
// with `Connection: close` -> idle keep-alive sockets closed -> metrics and logs flushed -> exit.
import { createServer } from "node:http";
import type { Config } from "./config";
import { createLogger } from "./log";
import { closeMetrics, startMetrics } from "./metrics";
import { startProcessMetrics } from "./process-metrics";
import { EX_DEADLINE, SHUTDOWN_MESSAGE } from "./protocol";
import { createHandler, type WorkerState } from "./routes";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export function runWorker(cfg: Config, slot: number): void {
  const log = createLogger(cfg.logLevel, { worker: slot });
  const state: WorkerState = { ready: false, closing: false, inFlight: 0 };

  let lastMetricsError = 0;
  startMetrics({
    host: cfg.agentHost,
    port: cfg.agentPort,
    prefix: "app.",
    globalTags: cfg.globalTags,
    // Below the gauge interval, so one aggregation window never folds two samples of a gauge into one.
    flushIntervalMs: Math.max(50, Math.min(2000, Math.floor(cfg.metricsIntervalMs / 2))),
    onError: (err) => {
      // An absent agent must not flood stderr: one line a minute at most.
      if (Date.now() - lastMetricsError < 60_000) return;
      lastMetricsError = Date.now();
      log.warn({ err: err.message }, "metrics: cannot send to the agent");
    },
  });
  const stopProcessMetrics = startProcessMetrics(cfg.metricsIntervalMs, cfg.diskPath, [`worker:${slot}`]);

  const server = createServer(
    {
      keepAliveTimeout: cfg.keepAliveTimeoutMs,
      headersTimeout: cfg.headersTimeoutMs,
      requestTimeout: cfg.requestTimeoutMs,
      // How often Node enforces headersTimeout/requestTimeout (its default, 30 s, is too coarse).
      connectionsCheckingInterval: Math.min(1000, cfg.headersTimeoutMs),
    },
    createHandler({
      log,
      state,
      maxBodyBytes: cfg.maxBodyBytes,
      debugRoutes: cfg.debugRoutes,
      logFullUrl: cfg.logFullUrl,
    }),
  );
  server.keepAliveTimeout = cfg.keepAliveTimeoutMs;

  const exit = (code: number) => {
    log.flush();
    process.exit(code);
  };

  server.on("error", (err) => {
    log.fatal({ err: err.message }, `cannot listen on ${cfg.host}:${cfg.port}`);
    exit(1);
  });
  server.listen(cfg.port, cfg.host, () => {
    state.ready = true;
    log.info({ port: cfg.port }, "worker listening");
  });

  let shuttingDown = false;
  let signals = 0;
  const shutdown = async (reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const deadline = Date.now() + cfg.shutdownTimeoutMs - Math.min(1000, cfg.shutdownTimeoutMs / 10);
    state.ready = false;
    log.info({ reason, drainDelayMs: cfg.drainDelayMs }, "shutdown: readiness failing, draining");
    await sleep(Math.min(cfg.drainDelayMs, deadline - Date.now()));

    state.closing = true;
    const closed = new Promise<boolean>((r) => server.close(() => r(true)));
    server.closeIdleConnections();
    // A keep-alive socket that finishes a response after close() goes idle later: sweep again.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    log.info({ inFlight: state.inFlight }, "shutdown: stopped accepting");
    const drained = await Promise.race([closed, sleep(deadline - Date.now()).then(() => false)]);
    clearInterval(sweep);

    let code = 0;
    if (!drained) {
      log.error({ inFlight: state.inFlight }, "shutdown: deadline reached, cutting open requests");
      server.closeAllConnections();
      code = EX_DEADLINE;
    }
    stopProcessMetrics();
    await closeMetrics(Math.max(50, Math.min(500, deadline + 500 - Date.now())));
    log.info({ code }, "worker exiting");
    exit(code);
  };

  process.on("message", (msg) => {
    if (msg === SHUTDOWN_MESSAGE) void shutdown("primary asked");
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.error({ signal: sig }, "second signal: exiting now");
      return exit(EX_DEADLINE);
    }
    void shutdown(sig);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // If the primary dies, Node's cluster code exits this worker at once (IPC disconnect);
  // the log destinations are synchronous, so nothing is left in a buffer.
  process.on("uncaughtException", (err) => {
    log.fatal({ err: { message: err.message, stack: err.stack } }, "uncaught exception: worker exits");
    exit(1);
  });
  process.on("unhandledRejection", (err) => {
    log.fatal(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) },
      "unhandled rejection: worker exits",
    );
    exit(1);
  });
}
