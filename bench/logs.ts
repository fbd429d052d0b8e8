// Lines per second through the log pipeline, side by side in one run: a bare rsyslogd (TCP input ->
// one file) as the baseline, the rendered rules writing the service's file, and the rendered rules
// writing the file and forwarding over TLS to a local receiver. Prints ratios to the baseline.
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeLines } from "../test/support/logCount";
import { Pipeline, Rsyslogd } from "../test/support/logPipeline";
import { freePort } from "../test/support/net";
import { sampleInput } from "../test/support/hostInput";
import { tempDir } from "../test/support/tools";

const lines = Number(process.env.BENCH_LINES ?? 200_000);
const service = sampleInput().service.name;

/** True once the last line of this run is in the file (one input connection: lines arrive in order). */
function hasLast(file: string, tag: string): boolean {
  if (!fs.existsSync(file)) return false;
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 4096));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString("utf8").includes(`seq=${lines - 1} run=${tag}`);
  } finally {
    fs.closeSync(fd);
  }
}

interface RunResult {
  rate: number;
  /** Lines missing at the end of the run: none expected, nothing interrupts forwarding here. */
  missing: number;
}

const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
const countLines = (f: string, tag: string) =>
  fs.existsSync(f) ? fs.readFileSync(f, "utf8").split(`run=${tag}\n`).length - 1 : 0;

async function timeRun(port: number, files: string[], tag: string): Promise<RunResult> {
  const t0 = process.hrtime.bigint();
  await writeLines(port, service, tag, 0, lines);
  let sizes = files.map(size);
  let lastGrowth = Date.now();
  let t1 = process.hrtime.bigint();
  while (!files.every((f) => hasLast(f, tag))) {
    await sleep(5);
    const now = files.map(size);
    if (now.some((v, k) => v !== sizes[k])) {
      lastGrowth = Date.now();
      t1 = process.hrtime.bigint();
    }
    sizes = now;
    if (Date.now() - lastGrowth > 15_000) {
      // stalled: rate over what arrived, and how much did not
      const got = Math.min(...files.map((f) => countLines(f, tag)));
      return { rate: got / (Number(t1 - t0) / 1e9), missing: lines - got };
    }
  }
  return { rate: lines / (Number(process.hrtime.bigint() - t0) / 1e9), missing: 0 };
}

async function baseline(): Promise<RunResult> {
  const dir = tempDir("bench-baseline");
  const port = await freePort();
  const conf = path.join(dir, "rsyslog.conf");
  const out = path.join(dir, "out.log");
  fs.writeFileSync(
    conf,
    `global(workDirectory="${dir}")\nmodule(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${port}")\naction(type="omfile" file="${out}")\n`,
  );
  const r = new Rsyslogd("baseline", conf, path.join(dir, "rsyslogd.pid"), port);
  try {
    await r.start();
    return await timeRun(port, [out], "base");
  } finally {
    await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rendered(forward: boolean): Promise<RunResult> {
  const p = new Pipeline({ input: sampleInput(), forward });
  try {
    await p.setup();
    return await timeRun(p.sender.port, forward ? [p.logFile, p.received] : [p.logFile], forward ? "fwd" : "file");
  } finally {
    await p.teardown();
  }
}

async function main() {
  console.log(
    `log pipeline: ${lines} lines written at full speed over loopback TCP into rsyslogd, until the last is stored`,
  );
  const base = await baseline();
  const file = await rendered(false);
  const fwd = await rendered(true);
  const row = (name: string, r: RunResult) =>
    console.log(
      `${name.padEnd(44)} ${Math.round(r.rate).toString().padStart(9)} lines/s  ${(r.rate / base.rate).toFixed(2)}x` +
        (r.missing ? `  (${r.missing} lines never arrived)` : ""),
    );
  row("baseline: bare rsyslogd, TCP in -> one file", base);
  row("rendered rules: service file", file);
  row("rendered rules: file + TLS forward (queue)", fwd);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
