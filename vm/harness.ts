// Boots the VM test's Debian 12 image under qemu (TCG, no network device) with a NoCloud seed and a
// read-only data disk, and collects what the VM reports on its second serial port.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { missingTools as missingCommands } from "../test/support/tools";

const vmDir = __dirname;
export const cacheDir = path.join(vmDir, "..", ".cache", "vm");
const sbinPath = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;

// What the VM test runs on this machine; test/support/packages.json names the Debian package of each.
const commands = [
  "debootstrap",
  "qemu-system-x86_64",
  "qemu-img",
  "mkfs.ext4",
  "mkfs.vfat",
  "mcopy",
  "dpkg-deb",
  "chroot",
  "zstd",
  // the stand-in package sources on the data disk: throwaway keys, signatures, the apt repository's indexes
  "gpg",
  "gpg-agent",
  "gpgv",
  "apt-ftparchive",
];

/** The apt-get command that installs the missing tools, or undefined when all are present. */
export function missingTools(): string | undefined {
  return missingCommands(commands);
}

export interface Image {
  dir: string;
  rootImage: string;
  kernel: string;
  initrd: string;
  /** true when this call built it */
  built: boolean;
  buildMs: number;
}

/** Key of the cached image: what the builder reads (script, package list, the files of vm/image/). */
function imageKey(): string {
  const h = createHash("sha256");
  const files = [
    "build-image.sh",
    "image-packages.txt",
    ...fs
      .readdirSync(path.join(vmDir, "image"))
      .sort()
      .map((f) => `image/${f}`),
  ];
  for (const f of files) h.update(f).update(fs.readFileSync(path.join(vmDir, f)));
  return h.digest("hex").slice(0, 16);
}

/** The cached image for the current builder inputs; builds it (several minutes) when absent. */
export function ensureImage(): Image {
  const dir = path.join(cacheDir, `image-${imageKey()}`);
  const image = {
    dir,
    rootImage: path.join(dir, "root.ext4"),
    kernel: path.join(dir, "vmlinuz"),
    initrd: path.join(dir, "initrd.img"),
  };
  if (fs.existsSync(image.rootImage)) return { ...image, built: false, buildMs: 0 };
  fs.mkdirSync(cacheDir, { recursive: true });
  const started = Date.now();
  const r = spawnSync("bash", [path.join(vmDir, "build-image.sh"), dir], {
    env: { ...process.env, PATH: sbinPath },
    encoding: "utf8",
    timeout: 20 * 60_000,
  });
  if (r.status !== 0)
    throw new Error(
      `building the VM image failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`,
    );
  // older images (other builder inputs) are dead weight of about 1 GB each
  for (const old of fs.readdirSync(cacheDir).filter((d) => d.startsWith("image-") && path.join(cacheDir, d) !== dir))
    fs.rmSync(path.join(cacheDir, old), { recursive: true, force: true });
  // and so are root filesystem tarballs of other package lists: keep the newest only
  const bases = fs
    .readdirSync(cacheDir)
    .filter((f) => /^rootfs-.*\.tar\.zst$/.test(f))
    .map((f) => path.join(cacheDir, f));
  bases.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const old of bases.slice(1)) fs.rmSync(old, { force: true });
  return { ...image, built: true, buildMs: Date.now() - started };
}

export interface BootInput {
  /** As EC2 would be given it: text, or gzipped (cloud-init unpacks it). */
  userData: string | Buffer;
  metaData: string;
  /** files of the read-only data disk (mounted at /mnt/vmtest in the VM), by relative path */
  dataFiles: Record<string, string | Buffer>;
  timeoutMs: number;
}

export interface BootResult {
  /** serial console (kernel, systemd, cloud-init, check script's stdout) */
  console: string;
  /** what the check script wrote to the second serial port */
  report: string;
  /** ms from qemu's start to the check script's first line on the console (cloud-init done) */
  bootMs: number | undefined;
  /** ms from qemu's start to its exit */
  totalMs: number;
  exitCode: number | null;
  timedOut: boolean;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { env: { ...process.env, PATH: sbinPath }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.error?.message ?? r.stderr}`);
}

const running = new Set<ReturnType<typeof spawn>>();

/** Kills the qemu processes this module started that are still running (for afterAll on failure). */
export function killRunningVms(): void {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
}

/** Marker the check script prints on the console when it starts. */
export const checkStartMarker = "VMTEST-CHECK-START";

/** Boots a fresh copy of the image (an overlay over the pristine cached image) in workDir. */
export async function boot(image: Image, input: BootInput, workDir: string): Promise<BootResult> {
  const overlay = path.join(workDir, "root.qcow2");
  run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.rootImage, overlay]);

  const seedDir = path.join(workDir, "seed");
  fs.mkdirSync(seedDir);
  fs.writeFileSync(path.join(seedDir, "user-data"), input.userData);
  fs.writeFileSync(path.join(seedDir, "meta-data"), input.metaData);
  const seed = path.join(workDir, "seed.img");
  run("mkfs.vfat", ["-n", "CIDATA", "-C", seed, "2048"]);
  run("mcopy", ["-i", seed, path.join(seedDir, "user-data"), path.join(seedDir, "meta-data"), "::/"]);

  const dataDir = path.join(workDir, "data");
  for (const [rel, content] of Object.entries(input.dataFiles)) {
    const file = path.join(dataDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: 0o600 });
  }
  const data = path.join(workDir, "data.ext4");
  // room for the runtime (about 150 MB) beside the bundles and the package sources
  run("mkfs.ext4", ["-q", "-L", "VMTEST", "-d", dataDir, data, "512M"]);

  const consoleLog = path.join(workDir, "console.log");
  const reportLog = path.join(workDir, "report.log");
  const args = [
    "-accel",
    "tcg",
    // every CPU feature TCG emulates: the pinned Node is built for today's x86-64, not the 2003 baseline
    "-cpu",
    "max",
    "-m",
    "1024",
    "-smp",
    "2",
    "-nic",
    "none",
    "-display",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
    "-serial",
    `file:${consoleLog}`,
    "-serial",
    `file:${reportLog}`,
    "-kernel",
    image.kernel,
    "-initrd",
    image.initrd,
    // the official Debian 12 AMI's console settings, root on the first virtio disk
    "-append",
    "root=/dev/vda rw console=tty0 console=ttyS0,115200 consoleblank=0 panic=-1",
    "-drive",
    `file=${overlay},if=virtio,format=qcow2`,
    "-drive",
    `file=${seed},if=virtio,format=raw,readonly=on`,
    "-drive",
    `file=${data},if=virtio,format=raw,readonly=on`,
  ];
  const started = Date.now();
  const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  running.add(qemu);
  let stderr = "";
  qemu.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let bootMs: number | undefined;
  let timedOut = false;
  const poll = setInterval(() => {
    if (
      bootMs === undefined &&
      fs.existsSync(consoleLog) &&
      fs.readFileSync(consoleLog, "latin1").includes(checkStartMarker)
    )
      bootMs = Date.now() - started;
  }, 500);
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill("SIGKILL");
  }, input.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    qemu.on("exit", (code) => resolve(code));
    qemu.on("error", () => resolve(null));
  });
  running.delete(qemu);
  clearInterval(poll);
  clearTimeout(timer);
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").replace(/\r/g, "") : "");
  const consoleText = read(consoleLog) + (stderr ? `\n[qemu stderr]\n${stderr}` : "");
  if (bootMs === undefined && consoleText.includes(checkStartMarker)) bootMs = Date.now() - started;
  return { console: consoleText, report: read(reportLog), bootMs, totalMs: Date.now() - started, exitCode, timedOut };
}

/** Splits the check report into its sections: lines "=== name" start a section. */
export function parseReport(report: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (name !== undefined) sections.set(name, lines.join("\n").trim());
  };
  for (const line of report.split("\n")) {
    const m = /^=== (\S+)\s*$/.exec(line);
    if (m) {
      flush();
      name = m[1];
      lines = [];
    } else lines.push(line);
  }
  flush();
  return sections;
}
