// Counting what a log pipeline delivered: lines written with sequence numbers, tallied in the files they
// reached (rotated and gzipped ones included), and the bytes TCP held in flight at an instant.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { setTimeout as sleep } from "node:timers/promises";

/** A syslog line the sender's rules pick up (programname = service). */
export const line = (service: string, seq: number, tag: string) =>
  `<14>Nov 25 10:00:00 testhost ${service}: seq=${seq} run=${tag}\n`;

/** Writes lines [from, to) over one TCP connection at full speed (bounded by the socket's backpressure). */
export async function writeLines(
  port: number,
  service: string,
  tag: string,
  from: number,
  to: number,
  every?: { n: number; fn: (sent: number) => void },
): Promise<void> {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((res, rej) => (sock.once("connect", res), sock.once("error", rej)));
  const batch = 500;
  for (let s = from; s < to; s += batch) {
    let chunk = "";
    for (let k = s; k < Math.min(s + batch, to); k++) chunk += line(service, k, tag);
    if (!sock.write(chunk)) await new Promise((r) => sock.once("drain", r));
    if (every && Math.floor((s + batch - from) / every.n) > Math.floor((s - from) / every.n))
      every.fn(s + batch - from);
  }
  await new Promise<void>((res) => sock.end(res));
}

/** seq -> occurrences across a set of files (.gz decompressed), for lines of this run only. */
export function countSeqs(files: string[], tag: string): Map<number, number> {
  const counts = new Map<number, number>();
  const re = new RegExp(`seq=(\\d+) run=${tag}\\b`, "g");
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    let buf = fs.readFileSync(f);
    if (f.endsWith(".gz")) buf = zlib.gunzipSync(buf);
    for (const m of buf.toString("utf8").matchAll(re)) {
      const n = Number(m[1]);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return counts;
}

export function logFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.includes(".log"))
    .map((n) => path.join(dir, n));
}

export interface Tally {
  distinct: number;
  missing: number[];
  duplicates: number;
}

export function tally(counts: Map<number, number>, from: number, to: number): Tally {
  const missing: number[] = [];
  let duplicates = 0;
  for (let k = from; k < to; k++) {
    const c = counts.get(k) ?? 0;
    if (c === 0) missing.push(k);
    else duplicates += c - 1;
  }
  return { distinct: to - from - missing.length, missing, duplicates };
}

/**
 * Waits until every seq in [from, to) is present in the files, or until nothing new arrived for 15 s (longer than rsyslog's retry interval)
 * (bounded by timeoutMs), and returns the tally.
 */
export async function waitForAll(
  files: () => string[],
  tag: string,
  from: number,
  to: number,
  timeoutMs: number,
): Promise<Tally> {
  const end = Date.now() + timeoutMs;
  let t = tally(new Map(), from, to);
  let lastProgress = Date.now();
  for (;;) {
    const next = tally(countSeqs(files(), tag), from, to);
    if (next.distinct > t.distinct || next.duplicates !== t.duplicates) lastProgress = Date.now();
    t = next;
    if (t.missing.length === 0 || Date.now() > end || Date.now() - lastProgress > 15_000) return t;
    await sleep(1000); // reading every file is not free: once a second
  }
}

/** What TCP holds of the connections to one port, from one `ss` call (see inFlight). */
export interface Flight {
  /** Bytes the receiving side's kernel holds unread (Recv-Q of sockets bound to the port). */
  recvQ: number;
  /** Bytes the sending side's kernel holds undelivered (Send-Q of sockets connected to the port). */
  sendQ: number;
  /** Of sendQ, what sockets the sender already closed still hold (FIN-WAIT-1 etc.; the kernel keeps delivering it). */
  sendQClosed: number;
  /** Connections holding any of those bytes at either end. */
  connections: number;
}

export const flightBytes = (f: Flight) => f.recvQ + f.sendQ;

/**
 * Bytes in flight on the loopback connections to `port`, from one `ss` call: what the receiving side's
 * kernel holds but the receiver has not read (Recv-Q of sockets bound to `port`) and what the sending
 * side's kernel holds but has not yet delivered (Send-Q of sockets connected to `port`).
 *
 * Every connected state counts, not only ESTABLISHED: each omfwd worker has its own connection (a
 * second one shows up while the action queue runs disk-assisted), and a worker that ends closes its
 * socket with data still queued; the kernel keeps that orphan in FIN-WAIT-1 and keeps delivering, and
 * its receiving end may already be in CLOSE-WAIT. Those bytes are lost too if the receiver dies. (LISTEN rows, whose queues count
 * pending connections rather than bytes, are not "connected" and not listed.)
 */
export function inFlight(port: number): Flight {
  const r = spawnSync("ss", ["-tnH", "state", "connected", `( sport = :${port} or dport = :${port} )`], {
    encoding: "utf8",
  });
  if (r.error) throw new Error("ss not found: apt-get install -y iproute2");
  if (r.status !== 0) throw new Error(`ss failed: ${r.stderr}`);
  const f: Flight = { recvQ: 0, sendQ: 0, sendQClosed: 0, connections: 0 };
  const busy = new Set<string>(); // the sender's end (address:port) of each connection holding bytes
  for (const row of r.stdout.split("\n")) {
    const [state, rq, sq, local, peer] = row.trim().split(/\s+/);
    if (!state || state === "LISTEN" || !local || !peer) continue;
    if (local.endsWith(`:${port}`) && Number(rq) > 0) {
      f.recvQ += Number(rq);
      busy.add(peer);
    }
    if (peer.endsWith(`:${port}`) && Number(sq) > 0) {
      f.sendQ += Number(sq);
      if (state !== "ESTAB") f.sendQClosed += Number(sq);
      busy.add(local);
    }
  }
  f.connections = busy.size;
  return f;
}

/** Missing seqs as ranges, e.g. "1024..2047 (1024), 5000 (1)". */
export function ranges(seqs: number[]): string {
  const out: string[] = [];
  for (let k = 0; k < seqs.length;) {
    let j = k;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    out.push(j === k ? `${seqs[k]} (1)` : `${seqs[k]}..${seqs[j]} (${j - k + 1})`);
    k = j + 1;
  }
  return out.join(", ");
}
