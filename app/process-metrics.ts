// Process and host gauges, sampled every METRICS_INTERVAL_MS in each worker.
import { statfs } from "node:fs/promises";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { gauge, type Tags } from "./metrics";

const NS_PER_MS = 1e6;

export function startProcessMetrics(intervalMs: number, diskPath: string, tags: Tags): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let at = performance.now();

  const sample = () => {
    gauge("event_loop.delay.p50", delay.percentile(50) / NS_PER_MS, tags);
    gauge("event_loop.delay.p99", delay.percentile(99) / NS_PER_MS, tags);
    gauge("event_loop.delay.max", delay.max / NS_PER_MS, tags);
    delay.reset();
    const eluNow = performance.eventLoopUtilization();
    gauge("event_loop.utilization", performance.eventLoopUtilization(eluNow, elu).utilization, tags);
    elu = eluNow;
    const mem = process.memoryUsage();
    gauge("memory.heap_used", mem.heapUsed, tags);
    gauge("memory.rss", mem.rss, tags);
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    gauge("cpu.percent", ((used.user + used.system) / 1000 / (now - at)) * 100, tags);
    cpu = process.cpuUsage();
    at = now;
    statfs(diskPath).then(
      (s) => gauge("disk.free", s.bavail * s.bsize, tags),
      () => undefined, // a missing path shows as a missing gauge, not a crash
    );
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
  };
}
