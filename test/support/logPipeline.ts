// Real rsyslogd/logrotate pipeline on loopback for the e2e test and bench/logs.ts: a sender running the
// rendered rules (loopback TCP input instead of the journal), a TLS receiver standing in for Papertrail,
// a line writer and counters. Every process started here is tracked and stopped by PID.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { HostInput } from "../../host/input";
import { renderLogrotate } from "../../host/logrotate";
import { renderPapertrailAction, renderRsyslog } from "../../host/rsyslog";
import { gtlsDriverPresent, tempDir, tool } from "./tools";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./net";

export { freePort, sleep };

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

/** The receiver's name as the sender checks it; its certificate is a wildcard for the domain, as Papertrail's. */
export const receiverHost = "logs3.papertrail.test";
export const receiverCertName = "*.papertrail.test";

/** Self-signed CA and a server certificate named `name` (CN and DNS SAN), made with certtool. */
export function makePki(dir: string, name = receiverCertName): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const certtool = tool("certtool");
  fs.writeFileSync(f("ca.tmpl"), 'cn = "pipeline test CA"\nca\ncert_signing_key\nexpiration_days = 2\n');
  fs.writeFileSync(f("srv.tmpl"), `cn = "${name}"\ndns_name = "${name}"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n`);
  const steps = [
    ["--generate-privkey", "--key-type=ecdsa", "--outfile", f("ca.key")],
    ["--generate-self-signed", "--load-privkey", f("ca.key"), "--template", f("ca.tmpl"), "--outfile", f("ca.pem")],
    ["--generate-privkey", "--key-type=ecdsa", "--outfile", f("srv.key")],
    ["--generate-certificate", "--load-privkey", f("srv.key"), "--load-ca-certificate", f("ca.pem"), "--load-ca-privkey", f("ca.key"), "--template", f("srv.tmpl"), "--outfile", f("srv.pem")],
  ];
  for (const args of steps) {
    const r = spawnSync(certtool, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`certtool ${args[0]} failed: ${r.stderr}`);
  }
  return { ca: f("ca.pem"), cert: f("srv.pem"), key: f("srv.key") };
}

/** One rsyslogd in the foreground with its own config, pidfile and work directory. */
export class Rsyslogd {
  proc: ChildProcess | undefined;
  stderr = "";
  constructor(readonly name: string, readonly conf: string, readonly pidFile: string, readonly port: number) {}

  async start(): Promise<void> {
    const check = spawnSync(tool("rsyslogd"), ["-N1", "-f", this.conf], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`${this.name}: rsyslogd -N1 rejected ${this.conf}: ${check.stderr}`);
    fs.rmSync(this.pidFile, { force: true });
    const p = spawn(tool("rsyslogd"), ["-n", "-f", this.conf, "-i", this.pidFile], { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = p;
    p.stderr!.on("data", (d) => (this.stderr += d));
    await waitFor(`${this.name} listening on ${this.port}`, async () => {
      if (p.exitCode !== null) throw new Error(`${this.name} exited ${p.exitCode}: ${this.stderr}`);
      return fs.existsSync(this.pidFile) && (await canConnect(this.port));
    }, 20_000);
  }

  /** SIGSTOP / SIGCONT: a hung process that keeps its sockets open but reads nothing. */
  pause(): void {
    this.proc?.kill("SIGSTOP");
  }
  resume(): void {
    this.proc?.kill("SIGCONT");
  }

  /** SIGTERM and wait for the exit (rsyslog saves its queues to disk on the way out). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((res) => p.once("exit", res));
    p.kill("SIGTERM");
    p.kill("SIGCONT"); // a paused process handles the signal only once it runs
    const killer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(killer);
  }
}

export interface PipelineOptions {
  input: HostInput;
  forward: boolean;
  /** Edits the rendered Papertrail action before the sender reads it. */
  editAction?: (action: string) => string;
}

/** The rendered pipeline in a temp dir: sender (rendered rules), optional TLS receiver, logrotate. */
export class Pipeline {
  readonly dir = tempDir("pipeline");
  readonly logDir = path.join(this.dir, "log");
  readonly received = path.join(this.dir, "receiver", "received.log");
  sender!: Rsyslogd;
  receiver: Rsyslogd | undefined;
  logrotateConf = path.join(this.dir, "logrotate.conf");
  logrotateState = path.join(this.dir, "logrotate.state");
  private i: HostInput;

  constructor(readonly opts: PipelineOptions) {
    this.i = opts.input;
  }

  get logFile(): string {
    return path.join(this.logDir, `${this.i.service.name}.log`);
  }

  async setup(): Promise<void> {
    gtlsDriverPresent();
    const d = (n: string) => {
      const p = path.join(this.dir, n);
      fs.mkdirSync(p, { recursive: true, mode: 0o700 });
      return p;
    };
    const [sdir, rdir, pki] = [d("sender"), d("receiver"), d("pki")];
    fs.mkdirSync(this.logDir, { mode: 0o750 });
    const inputPort = await freePort();
    const include = path.join(sdir, "papertrail.conf");
    let i = this.i;
    if (this.opts.forward) {
      const certs = makePki(pki);
      i = { ...i, logs: { ...i.logs, caFile: certs.ca } };
      const recvPort = await freePort();
      // Rendered for the receiver's name; no name resolves to loopback here, so the sender connects to
      // 127.0.0.1 and checks the certificate against what the rendering permits for that name.
      const action = renderPapertrailAction(i, { host: receiverHost, port: recvPort }).replace(`target="${receiverHost}"`, 'target="127.0.0.1"');
      fs.writeFileSync(include, this.opts.editAction ? this.opts.editAction(action) : action);
      const rconf = path.join(rdir, "rsyslog.conf");
      // What the receiver accepted it keeps: on SIGTERM rsyslog stops reading, then its main queue
      // drains into the file (timeoutShutdown long enough for any backlog here; the save to the spool
      // directory is only the backstop), so a stop loses only bytes still in its kernel receive buffer.
      // A queue rather than writing in the reading thread: the stand-in must not be the slow part.
      fs.writeFileSync(
        rconf,
        `global(workDirectory="${rdir}" DefaultNetstreamDriverCAFile="${certs.ca}"
       DefaultNetstreamDriverCertFile="${certs.cert}" DefaultNetstreamDriverKeyFile="${certs.key}")
main_queue(queue.type="LinkedList" queue.size="1000000" queue.filename="received"
           queue.saveOnShutdown="on" queue.timeoutShutdown="60000")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="${recvPort}")
template(name="msgOnly" type="string" string="%msg%\\n")
action(type="omfile" file="${this.received}" template="msgOnly" flushOnTXEnd="on")
`,
      );
      this.receiver = new Rsyslogd("receiver", rconf, path.join(rdir, "rsyslogd.pid"), recvPort);
    }
    const rules = path.join(sdir, "rules.conf");
    fs.writeFileSync(
      rules,
      renderRsyslog(i, {
        input: { statements: `module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${inputPort}")`, name: "imtcp" },
        logFile: this.logFile,
        fileOwner: "root",
        fileGroup: "root",
        forwardInclude: include,
      }),
    );
    const sconf = path.join(sdir, "rsyslog.conf");
    fs.writeFileSync(sconf, `global(workDirectory="${sdir}")\ninclude(file="${rules}")\n`);
    this.sender = new Rsyslogd("sender", sconf, path.join(sdir, "rsyslogd.pid"), inputPort);
    fs.writeFileSync(
      this.logrotateConf,
      renderLogrotate(i, { logDir: this.logDir, owner: "root", group: "root", reopen: `kill -HUP "$(cat ${this.sender.pidFile})"` }),
    );
    if (this.receiver) await this.receiver.start();
    await this.sender.start();
  }

  /** `logrotate -f`: a forced rotation with the rendered config. */
  rotate(): Promise<void> {
    return new Promise((res, rej) => {
      const p = spawn(tool("logrotate"), ["-f", "-s", this.logrotateState, this.logrotateConf], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      p.stderr.on("data", (d) => (err += d));
      p.once("exit", (code) => (code === 0 ? res() : rej(new Error(`logrotate exited ${code}: ${err}`))));
    });
  }

  async teardown(): Promise<void> {
    try {
      await this.sender?.stop();
      await this.receiver?.stop();
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A syslog line the sender's rules pick up (programname = service). */
export const line = (service: string, seq: number, tag: string) => `<14>Nov 25 10:00:00 testhost ${service}: seq=${seq} run=${tag}\n`;

/** Writes lines [from, to) over one TCP connection at full speed (bounded by the socket's backpressure). */
export async function writeLines(
  port: number, service: string, tag: string, from: number, to: number,
  every?: { n: number; fn: (sent: number) => void },
): Promise<void> {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((res, rej) => (sock.once("connect", res), sock.once("error", rej)));
  const batch = 500;
  for (let s = from; s < to; s += batch) {
    let chunk = "";
    for (let k = s; k < Math.min(s + batch, to); k++) chunk += line(service, k, tag);
    if (!sock.write(chunk)) await new Promise((r) => sock.once("drain", r));
    if (every && Math.floor((s + batch - from) / every.n) > Math.floor((s - from) / every.n)) every.fn(s + batch - from);
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
  return fs.readdirSync(dir).filter((n) => n.includes(".log")).map((n) => path.join(dir, n));
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
export async function waitForAll(files: () => string[], tag: string, from: number, to: number, timeoutMs: number): Promise<Tally> {
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
  const r = spawnSync("ss", ["-tnH", "state", "connected", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8" });
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
  for (let k = 0; k < seqs.length; ) {
    let j = k;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    out.push(j === k ? `${seqs[k]} (1)` : `${seqs[k]}..${seqs[j]} (${j - k + 1})`);
    k = j + 1;
  }
  return out.join(", ");
}
