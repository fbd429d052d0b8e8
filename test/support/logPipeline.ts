// Real rsyslogd/logrotate pipeline on loopback for the e2e test and bench/logs.ts: a sender running the
// rendered rules (loopback TCP input instead of the journal), a TLS receiver standing in for Papertrail,
// a line writer and counters. Every process started here is tracked and stopped by PID.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { HostInput } from "../../host/input";
import { renderLogrotate } from "../../host/logrotate";
import { renderPapertrailAction, renderRsyslog } from "../../host/rsyslog";
import { gtlsDriverPresent, tempDir, tool } from "./tools";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./net";

async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
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
  fs.writeFileSync(
    f("srv.tmpl"),
    `cn = "${name}"\ndns_name = "${name}"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n`,
  );
  const steps = [
    ["--generate-privkey", "--key-type=ecdsa", "--outfile", f("ca.key")],
    ["--generate-self-signed", "--load-privkey", f("ca.key"), "--template", f("ca.tmpl"), "--outfile", f("ca.pem")],
    ["--generate-privkey", "--key-type=ecdsa", "--outfile", f("srv.key")],
    [
      "--generate-certificate",
      "--load-privkey",
      f("srv.key"),
      "--load-ca-certificate",
      f("ca.pem"),
      "--load-ca-privkey",
      f("ca.key"),
      "--template",
      f("srv.tmpl"),
      "--outfile",
      f("srv.pem"),
    ],
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
  constructor(
    readonly name: string,
    readonly conf: string,
    readonly pidFile: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const check = spawnSync(tool("rsyslogd"), ["-N1", "-f", this.conf], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`${this.name}: rsyslogd -N1 rejected ${this.conf}: ${check.stderr}`);
    fs.rmSync(this.pidFile, { force: true });
    const p = spawn(tool("rsyslogd"), ["-n", "-f", this.conf, "-i", this.pidFile], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc = p;
    p.stderr!.on("data", (d) => (this.stderr += d));
    await waitFor(
      `${this.name} listening on ${this.port}`,
      async () => {
        if (p.exitCode !== null) throw new Error(`${this.name} exited ${p.exitCode}: ${this.stderr}`);
        return fs.existsSync(this.pidFile) && (await canConnect(this.port));
      },
      20_000,
    );
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
      const action = renderPapertrailAction(i, { host: receiverHost, port: recvPort }).replace(
        `target="${receiverHost}"`,
        'target="127.0.0.1"',
      );
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
        input: {
          statements: `module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${inputPort}")`,
          name: "imtcp",
        },
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
      renderLogrotate(i, {
        logDir: this.logDir,
        owner: "root",
        group: "root",
        reopen: `kill -HUP "$(cat ${this.sender.pidFile})"`,
      }),
    );
    if (this.receiver) await this.receiver.start();
    await this.sender.start();
  }

  /** `logrotate -f`: a forced rotation with the rendered config. */
  rotate(): Promise<void> {
    return new Promise((res, rej) => {
      const p = spawn(tool("logrotate"), ["-f", "-s", this.logrotateState, this.logrotateConf], {
        stdio: ["ignore", "ignore", "pipe"],
      });
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
