// The log pipeline with the real programs: rendered rsyslog rules (loopback TCP input in place of the
// journal), rendered logrotate config forced mid-stream, and a TLS rsyslogd standing in for Papertrail.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { Flight, flightBytes, inFlight, logFiles, ranges, waitForAll, writeLines } from "../test/support/logCount";
import { Pipeline, receiverCertName, receiverHost } from "../test/support/logPipeline";
import { sampleInput } from "../test/support/hostInput";

const input = sampleInput();
const service = input.service.name;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.teardown();
  pipeline = undefined;
});

// TCP syslog (all Papertrail offers) has no application-level acknowledgement. When a send fails,
// rsyslog retries the whole dequeue batch it was committing; lines of that batch that got through
// before the break then arrive twice: at most one batch (queue.dequeueBatchSize) per broken connection.
const batch = 1024;

/** The frame the sender's template makes of one test line, at its shortest (timestamp without zone). */
const frameBytes = (seq: number, tag: string) =>
  Buffer.byteLength(`<14>1 2026-11-25T10:00:00 testhost ${service} - - - seq=${seq} run=${tag}\n`);

const sameFlight = (a: Flight, b: Flight) =>
  a.recvQ === b.recvQ && a.sendQ === b.sendQ && a.sendQClosed === b.sendQClosed && a.connections === b.connections;

describe("log pipeline", () => {
  it(`delivers over TLS to a receiver whose certificate names ${receiverCertName}, as Papertrail's does; permitting only the exact host name is refused`, async () => {
    const tag = `w${process.pid}`;
    // The rendering of before: the exact destination host as the only permitted peer.
    pipeline = new Pipeline({
      input,
      forward: true,
      editAction: (a) =>
        a.replace(/StreamDriverPermittedPeers="[^"]*"/, `StreamDriverPermittedPeers="${receiverHost}"`),
    });
    await pipeline.setup();
    await writeLines(pipeline.sender.port, service, tag, 0, 100);
    const refused = await waitForAll(() => [pipeline!.received], tag, 0, 100, 8000);
    const stderr = pipeline.sender.stderr;
    console.log(
      `exact-host peer: ${refused.distinct}/100 lines received; sender said: ${(/.*not authorized.*/.exec(stderr) ?? ["nothing about it"])[0]}`,
    );
    expect(refused.distinct).toBe(0);
    expect(stderr).toMatch(/peer name not authorized/);
    await pipeline.teardown();

    pipeline = new Pipeline({ input, forward: true });
    await pipeline.setup();
    await writeLines(pipeline.sender.port, service, tag, 0, 100);
    const received = await waitForAll(() => [pipeline!.received], tag, 0, 100, 30_000);
    expect(received.missing).toEqual([]);
    expect(pipeline.sender.stderr).not.toMatch(/not authorized/);
  }, 120_000);

  it("keeps every line exactly once in the file across >= 5 forced rotations, and forwards every line exactly once over TLS through a hung receiver", async () => {
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
    // Papertrail's usual outage: the endpoint hangs (accepts nothing, answers nothing) for a while, then
    // resumes. The sender must hold everything in its queue and deliver every line exactly once.
    const outage = (async () => {
      while (!(fs.existsSync(p.received) && fs.statSync(p.received).size > 10_000 * 40)) await sleep(20);
      p.receiver!.pause();
      await sleep(4000);
      p.receiver!.resume();
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
    console.log(
      `file: ${inFile.distinct}/${total} lines, ${inFile.duplicates} duplicates, ${rotations} rotations, ${rotated} rotated files`,
    );
    expect(inFile.missing.slice(0, 10)).toEqual([]);
    expect(inFile.duplicates).toBe(0);
    expect(rotations).toBeGreaterThanOrEqual(5);
    expect(rotated).toBe(rotations);

    const received = await waitForAll(() => [p.received], tag, 0, total, 120_000);
    console.log(
      `receiver hung 4 s: ${received.distinct}/${total} lines, lost ${ranges(received.missing) || "none"}, ${received.duplicates} duplicates`,
    );
    expect(received.missing.slice(0, 10)).toEqual([]);
    expect(received.duplicates).toBe(0);
  }, 300_000);

  it("loses, when the receiver is killed, at most the bytes the two kernels held in flight, and no other line", async () => {
    pipeline = new Pipeline({ input, forward: true });
    const p = pipeline;
    await p.setup();
    const total = 150_000;
    const tag = `k${process.pid}`;
    const port = p.receiver!.port;
    let flight: Flight = { recvQ: 0, sendQ: 0, sendQClosed: 0, connections: 0 };
    const kill = (async () => {
      while (!(fs.existsSync(p.received) && fs.statSync(p.received).size > 10_000 * 40)) await sleep(20);
      // Worst case: the receiver hangs until both kernels' buffers are full, then dies (connection
      // reset). The sender is paused while the receiver goes, so nothing enters the connection after
      // the measurement: the receiver can only read some of it, never add to it.
      p.receiver!.pause();
      let last = -1;
      for (let k = 0; k < 100 && flightBytes(flight) !== last; k++) {
        last = flightBytes(flight);
        await sleep(200);
        flight = inFlight(port);
      }
      // The bound comes from one instant: both processes stopped, right before the kill, and a sample
      // that a second one 50 ms later repeats, so no byte is moving from one kernel queue to another
      // while ss reads the sockets one after another. inFlight counts every connection in every state:
      // a socket rsyslog closed with data still queued (FIN-WAIT-1) loses that data too.
      p.sender.pause();
      let prev: Flight | undefined;
      for (let k = 0; k < 40 && !(prev && sameFlight(prev, flight)); k++) {
        prev = flight;
        await sleep(50);
        flight = inFlight(port);
      }
      await p.receiver!.stop();
      p.sender.resume();
      await sleep(2000);
      await p.receiver!.start();
    })();
    await writeLines(p.sender.port, service, tag, 0, total);
    await kill;
    const received = await waitForAll(() => [p.received], tag, 0, total, 120_000);
    const lostBytes = received.missing.reduce((n, k) => n + frameBytes(k, tag), 0);
    // Every lost line was in a kernel buffer at the kill (TLS framing only adds bytes to what is
    // counted there); one line per connection may be cut at each end of that window. No other margin:
    // a loss anywhere else (a queue, a file, a retry) fails this once it exceeds what the receiver still
    // read on its way out after the sample (0.36-1 MB in local runs, printed as the slack).
    const bound = flightBytes(flight) + 2 * flight.connections * frameBytes(total, tag);
    const inFlightLines = (bytes: number) => Math.floor(bytes / frameBytes(0, tag));
    console.log(
      `receiver killed: ${received.distinct}/${total} lines, lost ${received.missing.length} (${ranges(received.missing)}; ` +
        `${lostBytes} bytes <= bound ${bound}, slack ${bound - lostBytes}) of ${flight.recvQ} bytes unread in the receiver's kernel (~${inFlightLines(flight.recvQ)} lines) + ` +
        `${flight.sendQ} bytes unsent in the sender's kernel (~${inFlightLines(flight.sendQ)} lines; ${flight.sendQClosed} of them on ` +
        `sockets rsyslog already closed) on ${flight.connections} connection(s); ${received.duplicates} duplicates`,
    );
    expect(flight.connections).toBeGreaterThan(0);
    expect(lostBytes).toBeLessThanOrEqual(bound);
    expect(received.duplicates).toBeLessThanOrEqual(batch * flight.connections);
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
    console.log(
      `after sender restart: ${received.distinct}/${total} lines received, ${received.duplicates} duplicates`,
    );
    expect(received.missing.slice(0, 10)).toEqual([]);
    expect(received.duplicates).toBeLessThanOrEqual(batch);
  }, 300_000);
});
