// A real systemd for tests on a machine where systemd is not PID 1: a user manager (`systemd --user`,
// as root) in private mount and network namespaces and in a cgroup of its own. The units it starts get
// their seccomp filter, namespaces and BPF IP filter from systemd itself, so a test can run a rendered
// unit's sandbox and see what it allows. Nothing leaves the namespaces: the network namespace has only
// its loopback device, carrying whatever addresses the test asks for (e.g. the instance metadata ones).
// Every process started here is stopped by PID; the temp dir and the cgroup are removed.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tool } from "./tools";

const systemdBin = ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"].find((p) => fs.existsSync(p));

/** The cgroup hierarchies a manager must own a folder in: the unified one, plus name=systemd on a hybrid layout. */
function cgroupRoots(): string[] {
  if (fs.existsSync("/sys/fs/cgroup/cgroup.controllers")) return ["/sys/fs/cgroup"];
  return ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"].filter((d) =>
    fs.existsSync(path.join(d, "cgroup.procs")),
  );
}

/** Why this machine cannot run the manager, or undefined when it can. */
export function systemdUserUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (namespaces, cgroups)";
  if (!systemdBin) return "no systemd binary: apt-get install -y systemd";
  for (const t of ["unshare", "nsenter", "ip", "strace"]) {
    try {
      tool(t);
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (!cgroupRoots().some((d) => d.endsWith("unified") || d === "/sys/fs/cgroup"))
    return "no cgroup2 hierarchy (BPF IP filters need it)";
  return undefined;
}

export interface UnitResult {
  /** `systemctl start` succeeded (for Type=oneshot: the command exited 0). */
  ok: boolean;
  /** What the unit's command wrote to stdout and stderr (StandardOutput=file:). */
  stdout: string;
  stderr: string;
  /** `systemctl status` when the start failed. */
  status: string;
}

export class SystemdUser {
  // Under /var/lib, not /tmp: a unit with PrivateTmp= must still see the manager's notify socket
  // (Type=notify), its runtime and state directories, and files a test puts here (e.g. a config).
  // Readable by all: a unit's User= must reach them too, as it reaches /run/systemd on a host.
  readonly dir = fs.mkdtempSync("/var/lib/host-test-systemd-");
  readonly runtime = path.join(this.dir, "run");
  readonly units = path.join(this.dir, "config", "systemd", "user");
  readonly home = path.join(this.dir, "home");
  /**
   * Where StateDirectory= puts a unit's state: a user manager uses $XDG_CONFIG_HOME (systemd 252) or
   * $XDG_STATE_HOME (later versions); both point here.
   */
  readonly state = path.join(this.dir, "config");
  /** The file strace writes when `trace` is given. */
  readonly traceFile = path.join(this.dir, "strace.txt");
  private proc: ChildProcess | undefined;
  private managerPid = 0;
  private readonly cgroup = `host-test-systemd-${process.pid}-${Date.now()}`;
  private output = "";

  /**
   * addresses: put on the namespace's loopback device ("169.254.169.254/32", "fd00:ec2::254/128").
   * trace: system calls strace records for the manager and everything it starts (strace -f).
   */
  constructor(readonly o: { addresses?: string[]; trace?: string[] } = {}) {}

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      XDG_RUNTIME_DIR: this.runtime,
      XDG_CONFIG_HOME: this.state,
      XDG_STATE_HOME: this.state,
      HOME: this.home,
      SYSTEMD_LOG_LEVEL: "warning",
    };
  }

  async start(): Promise<void> {
    const why = systemdUserUnavailable();
    if (why) throw new Error(`cannot run systemd --user here: ${why}`);
    fs.chmodSync(this.dir, 0o755);
    for (const d of [this.runtime, this.units, this.home]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    // The default target: nothing, so the manager starts none of the distro's user units.
    fs.writeFileSync(
      path.join(this.units, "test-idle.target"),
      "[Unit]\nDescription=nothing\nDefaultDependencies=no\n",
    );
    // A cgroup of its own, entered before systemd starts: a manager moves every process of the cgroup it
    // starts in into its init.scope, so started in the machine's root cgroup it would move every process.
    const cgroups = cgroupRoots().map((r) => path.join(r, this.cgroup));
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const addrs = (this.o.addresses ?? []).map(
      (a) => `ip ${a.includes(":") ? "-6 " : ""}addr add ${q(a)} dev lo${a.includes(":") ? " nodad" : ""}`,
    );
    const trace = this.o.trace?.length
      ? `${q(tool("strace"))} -f -qq -e trace=${this.o.trace.join(",")} -e signal=none -o ${q(this.traceFile)} `
      : "";
    const script = [
      "set -eu",
      // systemd --user runs only where systemd "booted" (sd_booted: /run/systemd/system exists): true in this mount namespace only.
      "mount -t tmpfs -o mode=0755 tmpfs /run/systemd",
      "mkdir /run/systemd/system",
      ...cgroups.map((c) => `mkdir ${q(c)} && echo $$ > ${q(c)}/cgroup.procs`),
      "ip link set lo up",
      ...addrs,
      `exec ${trace}${q(systemdBin!)} --user --unit=test-idle.target`,
    ].join("\n");
    const p = spawn(tool("unshare"), ["--mount", "--net", "--propagation", "private", "bash", "-c", script], {
      env: this.env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = p;
    p.stdout!.on("data", (d) => (this.output += d));
    p.stderr!.on("data", (d) => (this.output += d));
    const sock = path.join(this.runtime, "systemd", "private");
    for (let i = 0; !fs.existsSync(sock); i++) {
      if (p.exitCode !== null || i > 200)
        throw new Error(`systemd --user did not start (exit ${p.exitCode}): ${this.output}`);
      await sleep(50);
    }
    // With strace in front, the manager is strace's child; nsenter needs the manager's namespaces (the same).
    this.managerPid = p.pid!;
    // A user manager makes its notify socket its user's only; a host's (/run/systemd/notify) takes
    // anyone's READY=1, which a Type=notify unit with User= needs.
    for (let i = 0; !fs.existsSync(path.join(this.runtime, "systemd", "notify")) && i < 100; i++) await sleep(20);
    fs.chmodSync(path.join(this.runtime, "systemd", "notify"), 0o777);
    await sleep(100);
  }

  /** A command inside the namespaces, as root and outside every unit. */
  exec(cmd: string, args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(
      tool("nsenter"),
      ["--target", String(this.managerPid), "--mount", "--net", "--", cmd, ...args],
      {
        encoding: "utf8",
        env: this.env(),
        timeout: timeoutMs,
      },
    );
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  systemctl(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return this.exec("systemctl", ["--user", "--no-pager", ...args], 60_000);
  }

  /**
   * Writes `name` with the given [Service] lines (stdout and stderr to files) and starts it. With
   * `Type=oneshot` among the lines the start returns once the command has exited.
   */
  startUnit(name: string, service: string[]): UnitResult {
    const out = path.join(this.dir, `${name}.out`);
    const err = path.join(this.dir, `${name}.err`);
    fs.writeFileSync(
      path.join(this.units, name),
      [
        "[Unit]",
        `Description=test unit ${name}`,
        "[Service]",
        ...service,
        `StandardOutput=file:${out}`,
        `StandardError=file:${err}`,
        "",
      ].join("\n"),
    );
    this.systemctl("daemon-reload");
    const r = this.systemctl("start", name);
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    const status = r.status === 0 ? "" : `${r.stderr}${this.systemctl("status", name).stdout}`;
    return { ok: r.status === 0, stdout: read(out), stderr: read(err), status };
  }

  /** Stops the manager (and its units) and removes everything; returns what strace recorded, if it ran. */
  async stop(): Promise<string> {
    const p = this.proc;
    let trace = "";
    try {
      if (p && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once("exit", r));
        // A clean exit stops every unit first.
        this.systemctl("exit");
        const killer = setTimeout(() => this.killCgroups(), 10_000);
        await exited;
        clearTimeout(killer);
      }
      if (fs.existsSync(this.traceFile)) trace = fs.readFileSync(this.traceFile, "utf8");
    } finally {
      this.killCgroups();
      this.removeCgroups();
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    return trace;
  }

  /** SIGKILL to what is left in this manager's own cgroup (only processes it started). */
  private killCgroups(): void {
    for (const root of cgroupRoots()) {
      const walk = (d: string): void => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
        for (const pid of fs.readFileSync(path.join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // gone already
          }
        }
      };
      walk(path.join(root, this.cgroup));
    }
  }

  private removeCgroups(): void {
    for (const root of cgroupRoots()) {
      const rm = (d: string): void => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(d, e.name));
        for (let i = 0; i < 50; i++) {
          try {
            fs.rmdirSync(d);
            return;
          } catch {
            spawnSync("sleep", ["0.1"]);
          }
        }
      };
      rm(path.join(root, this.cgroup));
    }
  }
}
