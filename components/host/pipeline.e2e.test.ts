// The log pipeline with the real programs: rendered rsyslog rules (loopback TCP input in place of the
// journal), rendered logrotate config forced mid-stream, and a TLS rsyslogd standing in for Papertrail.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Pipeline, logFiles, sleep, waitForAll, writeLines } from "./pipelineKit";
import { sampleInput } from "./testkit";

const input = sampleInput();
const service = input.service.name;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.teardown();
  pipeline = undefined;
});

// TCP syslog (all Papertrail offers) has no application-level acknowledgement. After a reconnect rsyslog
// may resend part of the batch that was in flight: at most one dequeue batch per outage comes twice.
const duplicateBound = 1024;
// OPEN FINDING (see the report): stopping the receiver mid-stream loses lines that the sender counted as
// sent: syslog over TCP/TLS (all Papertrail offers) has no acknowledgement to resend from. Losses seen
// here come in whole dequeue batches (1024, 16384 lines) from around the moment of the stop. The bound is
// what the sender's kernel send buffer (tcp_wmem maximum) holds at >= 80 bytes a line; the figure is
// printed. Everything the sender still held when the receiver came back arrives.
const wmemMax = Number(fs.readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/)[2]);
const lossBound = Math.ceil(wmemMax / 80);


describe("log pipeline", () => {
  it("keeps every line exactly once in the file across >= 5 forced rotations, and keeps forwarding over TLS through a receiver outage", async () => {
    pipeline = new Pipeline({ input, forward: true });
    const p = pipeline;
    await p.setup();
    const tag = `r${process.pid}`;
    // Rotate back to back while rsyslog is appending (each run renames a file rsyslog is writing to),
    // as soon as the new file holds 1,000 lines.
    const step = 1000 * 60;
    let writing = true;
    let rotations = 0;
    const rotator = (async () => {
      // fewer rotations than logs.rotate keeps: every rotated file must still be there to count lines
      while (writing && rotations < input.logs.rotate - 2) {
        const size = fs.existsSync(p.logFile) ? fs.statSync(p.logFile).size : 0;
        if (size > step) {
          await p.rotate();
          rotations++;
        } else await sleep(20);
      }
    })();
    // Stop the receiver once forwarding is under way, keep it down for 3 s, start it again.
    const outage = (async () => {
      while (!(fs.existsSync(p.received) && fs.statSync(p.received).size > 10_000 * 40)) await sleep(20);
      await p.receiver!.stop();
      await sleep(3000);
      await p.receiver!.start();
    })();
    // At least 200,000 lines; more (in 50,000-line rounds, at most 600,000) until 6 rotations happened.
    let total = 0;
    while (total < 200_000 || (rotations < 6 && total < 600_000)) {
      await writeLines(p.sender.port, service, tag, total, total + 50_000);
      total += 50_000;
    }
    const inFile = await waitForAll(() => logFiles(p.logDir), tag, 0, total, 60_000);
    writing = false;
    await rotator;
    await outage;
    const rotated = logFiles(p.logDir).filter((f) => !f.endsWith(".log")).length;
    console.log(`file: ${inFile.distinct}/${total} lines, ${inFile.duplicates} duplicates, ${rotations} rotations, ${rotated} rotated files`);
    expect(inFile.missing.slice(0, 10)).toEqual([]);
    expect(inFile.duplicates).toBe(0);
    expect(rotations).toBeGreaterThanOrEqual(5);
    expect(rotated).toBe(rotations);

    const received = await waitForAll(() => [p.received], tag, 0, total, 120_000);
    const m = received.missing;
    console.log(
      `receiver: ${received.distinct}/${total} lines, ${m.length} lost` + (m.length ? ` (seq ${m[0]}..${m[m.length - 1]})` : "") +
        `, ${received.duplicates} duplicates after one outage (bounds ${lossBound}, ${duplicateBound})`,
    );
    expect(m.length).toBeLessThanOrEqual(lossBound);
    expect(received.duplicates).toBeLessThanOrEqual(duplicateBound);
  }, 300_000);

  it("keeps lines queued for an unreachable receiver across a restart of the sending rsyslogd (disk queue)", async () => {
    pipeline = new Pipeline({ input, forward: true });
    const p = pipeline;
    await p.setup();
    const total = 20_000;
    const tag = `q${process.pid}`;
    await p.receiver!.stop();
    await writeLines(p.sender.port, service, tag, 0, total);
    const inFile = await waitForAll(() => logFiles(p.logDir), tag, 0, total, 60_000);
    expect(inFile.missing.length).toBe(0);

    await p.sender.stop();
    const queueFiles = fs.readdirSync(path.dirname(p.sender.conf)).filter((n) => n.startsWith(`${service}-papertrail`));
    expect(queueFiles.length).toBeGreaterThan(0); // the queue was saved to disk on shutdown

    await p.sender.start();
    await p.receiver!.start();
    const received = await waitForAll(() => [p.received], tag, 0, total, 120_000);
    console.log(`after sender restart: ${received.distinct}/${total} lines received, ${received.duplicates} duplicates`);
    expect(received.missing.slice(0, 10)).toEqual([]);
    expect(received.duplicates).toBeLessThanOrEqual(duplicateBound);
  }, 300_000);
});
