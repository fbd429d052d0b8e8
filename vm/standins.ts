// Local stand-ins for what a boot downloads, each delivered the way the real one is: Debian packages
// built with dpkg-deb, an apt repository indexed by apt-ftparchive whose InRelease is signed by a
// throwaway key, and a .deb with a detached signature. The keys are made per run and thrown away with
// the work folder, so nothing here can vouch for anything outside the test.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tool } from "../test/support/tools";

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Buffer {
  const r = spawnSync(tool(cmd), args, { cwd: opts.cwd, env: opts.env ?? process.env, input: opts.input });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return r.stdout;
}

/** An OpenPGP signing key made for one run, in its own GnuPG home under the work folder. */
export class ThrowawayKey {
  readonly home: string;
  readonly fingerprint: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(workDir: string, name: string) {
    this.home = path.join(workDir, `gnupg-${name}`);
    fs.mkdirSync(this.home, { mode: 0o700 });
    this.env = { ...process.env, GNUPGHOME: this.home };
    // ed25519: made in milliseconds; apt's gpgv and gpgv itself check it like Datadog's and AWS's RSA keys.
    this.gpg([
      "--passphrase",
      "",
      "--quick-generate-key",
      `VM test ${name} (throwaway) <vmtest@invalid>`,
      "ed25519",
      "sign",
      "1d",
    ]);
    const colons = this.gpg(["--with-colons", "--list-keys"]).toString();
    const fpr = /^fpr:(?::*)([0-9A-F]{40}):/m.exec(colons)?.[1];
    if (!fpr) throw new Error(`gpg made no key for ${name}:\n${colons}`);
    this.fingerprint = fpr;
  }

  private gpg(args: string[]): Buffer {
    return run("gpg", ["--batch", "--yes", "--pinentry-mode", "loopback", ...args], { env: this.env });
  }

  /** The public key, ASCII-armored (as a vendor publishes it). */
  armored(): string {
    return this.gpg(["--armor", "--export", this.fingerprint]).toString();
  }

  /** The public key as a binary keyring: what gpgv --keyring and apt's signed-by read. */
  keyring(): Buffer {
    return this.gpg(["--export", this.fingerprint]);
  }

  /** A binary detached signature of a file (gpg --detach-sign). */
  detachSign(file: string): Buffer {
    return this.gpg(["--local-user", this.fingerprint, "--output", "-", "--detach-sign", file]);
  }

  /** A clear-signed copy of a file (an apt repository's InRelease). */
  clearSign(file: string): Buffer {
    return this.gpg(["--local-user", this.fingerprint, "--output", "-", "--clearsign", file]);
  }

  /** Stops the gpg-agent this key's home started. */
  close(): void {
    spawnSync("gpgconf", ["--kill", "all"], { env: this.env });
  }
}

export interface DebSpec {
  name: string;
  version: string;
  depends?: string;
  description: string;
  /** Files of the package: absolute path in the package -> source file on this machine, and its mode. */
  files: Record<string, { source: string; mode: number }>;
  /** Source file of the maintainer script run after unpacking. */
  postinst?: string;
}

/** Builds a Debian package (dpkg-deb, files owned by root) into outDir; returns its path. */
export function buildDeb(workDir: string, outDir: string, spec: DebSpec): string {
  const root = fs.mkdtempSync(path.join(workDir, `deb-${spec.name}-`));
  fs.mkdirSync(path.join(root, "DEBIAN"));
  const control = [
    `Package: ${spec.name}`,
    `Version: ${spec.version}`,
    "Architecture: amd64",
    "Maintainer: VM test <vmtest@invalid>",
    ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
    `Description: ${spec.description}`,
  ];
  fs.writeFileSync(path.join(root, "DEBIAN", "control"), control.join("\n") + "\n");
  if (spec.postinst) fs.copyFileSync(spec.postinst, path.join(root, "DEBIAN", "postinst"));
  if (spec.postinst) fs.chmodSync(path.join(root, "DEBIAN", "postinst"), 0o755);
  for (const [dest, { source, mode }] of Object.entries(spec.files)) {
    const file = path.join(root, dest);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(source, file);
    fs.chmodSync(file, mode);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `${spec.name}_${spec.version.replace(/^\d+:/, "")}_amd64.deb`);
  run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb]);
  fs.rmSync(root, { recursive: true, force: true });
  return deb;
}

/**
 * A signed apt repository in `dir`, laid out like Datadog's (`deb <url> <suite> <component>`):
 * pool/ with the packages, dists/<suite>/<component>/binary-amd64/Packages(.gz), dists/<suite>/Release,
 * Release.gpg and InRelease signed by `key`.
 */
export function aptRepository(
  dir: string,
  o: { suite: string; component: string; debs: string[]; key: ThrowawayKey },
): void {
  const pool = path.join(dir, "pool", o.component);
  fs.mkdirSync(pool, { recursive: true });
  for (const deb of o.debs) fs.copyFileSync(deb, path.join(pool, path.basename(deb)));
  const dists = path.join(dir, "dists", o.suite);
  const binary = path.join(dists, o.component, "binary-amd64");
  fs.mkdirSync(binary, { recursive: true });
  const packages = run("apt-ftparchive", ["packages", `pool/${o.component}`], { cwd: dir });
  fs.writeFileSync(path.join(binary, "Packages"), packages);
  run("gzip", ["-9knf", path.join(binary, "Packages")]);
  const release = run(
    "apt-ftparchive",
    [
      "-o",
      `APT::FTPArchive::Release::Suite=${o.suite}`,
      "-o",
      `APT::FTPArchive::Release::Codename=${o.suite}`,
      "-o",
      `APT::FTPArchive::Release::Components=${o.component}`,
      "-o",
      "APT::FTPArchive::Release::Architectures=amd64",
      "-o",
      "APT::FTPArchive::Release::Origin=vmtest",
      "release",
      ".",
    ],
    { cwd: dists },
  );
  const releaseFile = path.join(dists, "Release");
  fs.writeFileSync(releaseFile, release);
  fs.writeFileSync(path.join(dists, "Release.gpg"), o.key.detachSign(releaseFile));
  fs.writeFileSync(path.join(dists, "InRelease"), o.key.clearSign(releaseFile));
}

/** Every file under dir, by path relative to it (for the data disk). */
export function filesUnder(dir: string, prefix: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.posix.join(prefix, path.relative(dir, p).split(path.sep).join("/"))] = fs.readFileSync(p);
    }
  };
  walk(dir);
  return out;
}
