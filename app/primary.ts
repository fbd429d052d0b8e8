// The cluster primary: forks WORKERS workers, respawns crashed ones with backoff, gives up on a
// crash loop, and on SIGTERM/SIGINT shuts every worker down gracefully inside SHUTDOWN_TIMEOUT_MS.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "./config";
import { createLogger } from "./log";
import { EX_CRASH_LOOP, EX_DEADLINE, SHUTDOWN_MESSAGE } from "./protocol";

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;

export function runPrimary(cfg: Config): void {
  const log = createLogger(cfg.logLevel, { role: "primary" });
  const slots = new Map<Worker, number>();
  const crashes: number[] = [];
  let shuttingDown = false;
  let exitCode = 0;
  let signals = 0;

  const fork = (slot: number) => {
    const w = cluster.fork({ WORKER_SLOT: String(slot) });
    slots.set(w, slot);
  };

  const finish = () => {
    log.info({ exitCode }, "primary exiting");
    log.flush();
    process.exit(exitCode);
  };

  const shutdown = (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    exitCode = code;
    log.info(
      { reason, workers: slots.size, shutdownTimeoutMs: cfg.shutdownTimeoutMs },
      "shutdown: asking workers to drain",
    );
    for (const w of slots.keys()) if (w.isConnected()) w.send(SHUTDOWN_MESSAGE);
    if (slots.size === 0) return finish();
    setTimeout(() => {
      const left = [...slots.keys()];
      log.error({ workers: left.map((w) => w.process.pid) }, "shutdown: deadline reached, killing workers");
      for (const w of left) w.process.kill("SIGKILL");
      exitCode = exitCode || EX_DEADLINE;
      // 'exit' events for the killed workers call finish(); this is the backstop.
      setTimeout(finish, 1000).unref();
    }, cfg.shutdownTimeoutMs).unref();
  };

  cluster.on("exit", (w, code, signal) => {
    const slot = slots.get(w) ?? -1;
    slots.delete(w);
    if (shuttingDown) {
      if (code !== 0) {
        log.error({ slot, pid: w.process.pid, code, signal }, "worker exited non-zero during shutdown");
        exitCode = exitCode || EX_DEADLINE;
      }
      if (slots.size === 0) finish();
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0]! <= now - cfg.crashLoopWindowMs) crashes.shift();
    if (crashes.length >= cfg.crashLoopMax) {
      log.fatal(
        { slot, pid: w.process.pid, code, signal },
        `crash loop: ${crashes.length} worker exits within ${cfg.crashLoopWindowMs} ms (CRASH_LOOP_MAX=${cfg.crashLoopMax}); stopping so the supervisor can act`,
      );
      return shutdown("crash loop", EX_CRASH_LOOP);
    }
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (crashes.length - 1), BACKOFF_MAX_MS);
    log.error({ slot, pid: w.process.pid, code, signal, respawnInMs: delay }, "worker died; respawning");
    setTimeout(() => {
      if (!shuttingDown) fork(slot);
    }, delay);
  });

  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals === 1) return shutdown(sig, 0);
    log.error({ signal: sig }, "second signal: killing workers and exiting now");
    for (const w of slots.keys()) w.process.kill("SIGKILL");
    log.flush();
    process.exit(128 + (sig === "SIGINT" ? 2 : 15));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  log.info({ workers: cfg.workers, port: cfg.port, host: cfg.host }, "primary starting");
  for (let slot = 0; slot < cfg.workers; slot++) fork(slot);
}
