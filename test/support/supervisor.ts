// The simulated service manager of one local host: what systemd does for the service unit.
// It runs `<node> <root>/opt/<service>/current/server.js` (contract/layout.ts's `current`, under the
// host's root; <node> the pinned runtime, test/support/runtime.ts) with the host's env file, restarts it after a crash (Restart=on-failure), and answers
// control commands on a unix socket:
//   restart  SIGTERM, wait for exit within the stop timeout (SIGKILL after), start `current` again
//   stop     the same stop, then stay stopped (systemctl stop)
//   kill     the naive restart: SIGKILL and start at once, no drain (bench and tests only)
//   crash    SIGKILL and stay stopped, as a machine that died (tests)
//   start    start when stopped
//   status   `<pid> <release it started>`
// Like an enabled unit before the boot installed a release, it starts nothing until `current` exists.
// Usage: supervisor.js run <config.json>   |   supervisor.js ctl <socket> <command>
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { hostPaths } from "../../contract/layout";

export interface SupervisorConfig {
  /** Host root: the host layout (contract/layout.ts) lives under it. */
  root: string;
  service: string;
  /** The Node binary that runs the service (the unit's ExecStart): the pinned runtime, not the supervisor's Node. */
  node: string;
  envFile: string;
  logFile: string;
  socket: string;
  pidFile: string;
  stopTimeoutSec: number;
  restartSec: number;
}

function parseEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

function run(c: SupervisorConfig): void {
  const current = path.join(c.root, hostPaths(c.service).current);
  let child: ChildProcess | undefined;
  let release = "-";
  let wanted = true;
  let respawn: NodeJS.Timeout | undefined;
  const say = (msg: string) => fs.appendFileSync(c.logFile, `${new Date().toISOString()} supervisor: ${msg}\n`);

  const start = () => {
    clearTimeout(respawn);
    if (!fs.existsSync(path.join(current, "server.js"))) throw new Error(`no release at ${current}`);
    release = safeReadlink(current);
    const out = fs.openSync(c.logFile, "a");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...parseEnvFile(c.envFile) };
    // Own process group, like a unit's cgroup: a stop reaches stragglers too.
    const p = spawn(c.node, [path.join(current, "server.js")], {
      cwd: current,
      env,
      stdio: ["ignore", out, out],
      detached: true,
    });
    fs.closeSync(out);
    child = p;
    fs.writeFileSync(c.pidFile, `${p.pid}\n`);
    say(`started pid ${p.pid} (${release})`);
    p.on("exit", (code, signal) => {
      say(`pid ${p.pid} exited code=${code} signal=${signal}`);
      if (child !== p) return;
      child = undefined;
      // Restart=on-failure: an unexpected exit is restarted after RestartSec.
      if (wanted && (code !== 0 || signal !== null)) respawn = setTimeout(restartAfterCrash, c.restartSec * 1000);
    });
  };
  const restartAfterCrash = () => {
    try {
      start();
    } catch (e) {
      say(`not restarted: ${(e as Error).message}`);
    }
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    clearTimeout(respawn);
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    // KillMode=mixed: SIGTERM to the main process only (the primary drains its workers), SIGKILL to all.
    if (signal === "SIGKILL") killGroup(p.pid!, signal);
    else p.kill(signal);
    const timer = setTimeout(() => killGroup(p.pid!, "SIGKILL"), c.stopTimeoutSec * 1000);
    await exited;
    clearTimeout(timer);
    // Whatever of the group is left (a worker that outlived its primary) goes too, as with KillMode=mixed.
    killGroup(p.pid!, "SIGKILL");
  };

  const server = net.createServer((conn) => {
    conn.setEncoding("utf8");
    conn.once("data", async (data: string) => {
      const cmd = data.trim();
      try {
        if (cmd === "restart" || cmd === "kill") {
          wanted = true;
          await stop(cmd === "restart" ? "SIGTERM" : "SIGKILL");
          start();
          conn.end(`ok ${child?.pid}\n`);
        } else if (cmd === "stop" || cmd === "crash") {
          wanted = false;
          await stop(cmd === "stop" ? "SIGTERM" : "SIGKILL");
          conn.end("ok\n");
        } else if (cmd === "start") {
          wanted = true;
          if (!child) start();
          conn.end(`ok ${child?.pid}\n`);
        } else if (cmd === "status") {
          conn.end(child ? `${child.pid} ${release}\n` : "- -\n");
        } else conn.end(`error unknown command ${cmd}\n`);
      } catch (e) {
        conn.end(`error ${(e as Error).message}\n`);
      }
    });
  });
  fs.rmSync(c.socket, { force: true });
  server.listen(c.socket);

  const shutdown = async () => {
    wanted = false;
    server.close();
    await stop("SIGTERM");
    fs.rmSync(c.pidFile, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  try {
    start();
  } catch (e) {
    say(`${(e as Error).message} yet: waiting for a start`);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function safeReadlink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return "-";
  }
}

/** Sends one command to a unix socket that answers and closes (this supervisor, HAProxy's admin socket). */
export function socketCommand(socket: string, command: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const s = net.connect(socket, () => s.write(`${command}\n`));
    s.setEncoding("utf8");
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no answer from ${socket} within ${timeoutMs} ms`)));
    s.on("data", (d) => (answer += d));
    s.on("error", reject);
    s.on("end", () => resolve(answer));
  });
}

/** Sends one command to a supervisor; resolves with the answer, rejects when it starts with "error". */
export async function control(socket: string, command: string, timeoutMs = 120_000): Promise<string> {
  const answer = (await socketCommand(socket, command, timeoutMs)).trim();
  if (answer.startsWith("error")) throw new Error(answer);
  return answer;
}

if (require.main === module) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "run" && a) run(JSON.parse(fs.readFileSync(a, "utf8")) as SupervisorConfig);
  else if (mode === "ctl" && a && b)
    control(a, b).then(
      (answer) => console.log(answer),
      (e: Error) => {
        console.error(`supervisor ctl: ${e.message}`);
        process.exit(1);
      },
    );
  else {
    console.error(
      "usage: supervisor.js run <config.json> | supervisor.js ctl <socket> <restart|stop|start|kill|crash|status>",
    );
    process.exit(2);
  }
}
