// Runs a host's real cloud-init user-data, end to end, on this machine without touching it: a private mount
// namespace with overlays over /etc, /usr, /opt and /var, the user-data's files written as cloud-init writes
// them, then its runcmd. What only a real host has (apt, dpkg, systemd, SSM, S3, the journal) are stand-ins
// on PATH that record each call in order; what checks things is real: curl (file:// URLs), gpgv, gpg,
// sha256sum, install, base64, timeout. The events say what was fetched, verified and used, and when.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { tool } from "./tools";

export interface BootStandIns {
  /** SSM parameter name -> value; others answer ParameterNotFound. */
  ssm: Record<string, string>;
  /** s3://bucket/key -> local file the stand-in `aws s3 cp` copies. */
  s3?: Record<string, string>;
  /** Exit code of the stand-in deploy script (release 1). Default 0. */
  deployExit?: number;
  /** URLs whose first N fetches fail (curl exit 7) before the real fetch runs. */
  flakyFetches?: Record<string, number>;
  /** Replaces each file's content before it is written, by path (e.g. to reorder the boot script). */
  edit?: (filePath: string, content: string) => string;
}

export interface BootResult {
  status: number | null;
  stderr: string;
  /** One line per recorded call: `<command>\t<args...>`, in order. */
  events: string[][];
  /** Lines the boot sent to the journal (logger), without the tag. */
  journal: string[];
  /** The tags those lines carried. */
  journalTags: string[];
  /** The host's files the user-data and the boot wrote, as the boot left them: content and mode. */
  file(p: string): { content: string; mode: number } | undefined;
}

const overlaid = ["/etc", "/usr", "/opt", "/var"];

// Each stand-in appends `name<TAB>args` to $EVENTS; some act (copy, check, fail), none reaches the network.
const standIns: Record<string, string> = {
  "apt-get": `ev apt-get "$@"
if [ "$1" = update ]; then for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && ev apt-source "$f" "$(cat "$f")"; done; fi
if [ "$1" = install ]; then
  ev policy-rc.d "$( if [ -x /usr/sbin/policy-rc.d ]; then /usr/sbin/policy-rc.d start >/dev/null; echo $?; else echo none; fi )"
  for a in "$@"; do case "$a" in
    datadog-agent=*) # its postinst starts the agent, whose unit needs the API key file (drop-in EnvironmentFile=)
      systemctl restart datadog-agent.service || { echo "datadog-agent postinst: start failed" >&2; exit 1; } ;;
  esac; done
fi`,
  "apt-mark": `ev apt-mark "$@"`,
  dpkg: `case "$1" in
  -s) exit 1 ;;
  --print-architecture) echo amd64 ;;
  -i) ev use "$2"; ev dpkg "$@" ;;
  *) ev dpkg "$@" ;;
esac`,
  "dpkg-query": `exit 1`,
  curl: `out=""; url=""; prev=""
for a in "$@"; do [ "$prev" = -o ] && out=$a; case "$a" in file://*|https://*|http://*) url=$a ;; esac; prev=$a; done
[ -n "$out" ] || { ev fetch-to-stdout "$url"; }
n=$(grep -c "^curl-attempt	$url$" "$EVENTS" || true)
ev curl-attempt "$url"
if [ "$n" -lt "$(sed -n "s#^$url	##p" "$FLAKY" | head -1)" ] 2>/dev/null; then exit 7; fi
"$REAL_CURL" "$@" || exit $?
ev fetch "$url" "$out"`,
  gpgv: `ev verify "\${@: -2:1}" "\${@: -1}"; ev gpgv "$@"; exec "$REAL_GPGV" "$@"`,
  gpg: `for a in "$@"; do case "$a" in --show-keys) ev verify "\${@: -1}" ;; --dearmor) ev use "\${@: -1}" ;; esac; done
exec "$REAL_GPG" "$@"`,
  sha256sum: `ev verify "$@"; exec "$REAL_SHA256SUM" "$@"`,
  install: `case " $* " in *" -d "*) ;; *) ev use "\${@: -2:1}" ;; esac; exec "$REAL_INSTALL" "$@"`,
  aws: `case "$1 $2" in
  "s3 cp") src=""; dest=""; for a in "$@"; do case "$a" in s3://*) src=$a ;; esac; done; dest=\${@: -1}
    file=$(sed -n "s#^$src	##p" "$S3" | head -1); [ -n "$file" ] || { echo "NoSuchKey $src" >&2; exit 1; }
    cp "$file" "$dest"; ev fetch "$src" "$dest" ;;
  "ssm get-parameter") name=""; prev=""; for a in "$@"; do [ "$prev" = --name ] && name=$a; prev=$a; done
    ev aws ssm get-parameter "$name"
    v=$(sed -n "s#^$name	##p" "$SSM" | head -1); [ -n "$v" ] || { echo "ParameterNotFound $name" >&2; exit 254; }
    printf '%s\\n' "$v" ;;
  *) ev aws "$@" ;;
esac`,
  systemctl: `ev systemctl "$@"
case "$1 $2" in
  "restart datadog-agent.service"|"start datadog-agent.service")
    [ -s "$DD_ENV_FILE" ] || { ev datadog-agent-start-failed "no $DD_ENV_FILE"; exit 1; } ;;
esac`,
  logger: `tag=""; [ "$1" = -t ] && tag=$2 && shift 2; [ "$1" = -- ] && shift; ev journal "$tag" "$*"`,
  sleep: `ev sleep "$@"`,
  useradd: `ev useradd "$@"`,
  groupadd: `ev groupadd "$@"`,
  usermod: `ev usermod "$@"`,
  rsyslogd: `ev rsyslogd "$@"`,
  haproxy: `ev haproxy "$@"`,
};

/** Runs `userData` (a #cloud-config) with the stand-ins; cleans up everything it made. */
export function runUserData(userData: string, s: BootStandIns): BootResult {
  const work = fs.mkdtempSync("/tmp/boot-run-");
  try {
    return runIn(work, userData, s);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function runIn(work: string, userData: string, s: BootStandIns): BootResult {
  const doc = parse(userData) as {
    write_files: { path: string; permissions: string; content: string }[];
    runcmd: string[][];
  };
  const bin = path.join(work, "bin");
  fs.mkdirSync(bin);
  const events = path.join(work, "events");
  fs.writeFileSync(events, "");
  for (const [name, body] of Object.entries(standIns))
    fs.writeFileSync(
      path.join(bin, name),
      `#!/bin/bash\nev() { local IFS=$'\\t'; printf '%s\\n' "$*" >> "$EVENTS"; }\n${body}\n`,
      { mode: 0o755 },
    );
  const table = (name: string, rows: Record<string, string | number>) => {
    const f = path.join(work, name);
    fs.writeFileSync(
      f,
      Object.entries(rows)
        .map(([k, v]) => `${k}\t${v}\n`)
        .join(""),
    );
    return f;
  };
  // The user-data's files, as cloud-init writes them; the deploy script is a stand-in (host/deploy has its own tests).
  const files = path.join(work, "files");
  const writes = doc.write_files.map((f, n) => {
    const src = path.join(files, String(n));
    fs.mkdirSync(files, { recursive: true });
    let content = s.edit ? s.edit(f.path, f.content) : f.content;
    if (f.path.endsWith("-deploy"))
      content = `#!/bin/bash\nev() { local IFS=$'\\t'; printf '%s\\n' "$*" >> "$EVENTS"; }\nev deploy "$@"\nexit ${s.deployExit ?? 0}\n`;
    fs.writeFileSync(src, content);
    return `install -D -m ${f.permissions} ${JSON.stringify(src)} ${JSON.stringify(f.path)}`;
  });
  const ddEnv = doc.write_files
    .find((f) => f.path.endsWith("-api-key.conf"))
    ?.content.match(/EnvironmentFile=(\S+)/)?.[1];
  const mounts = overlaid.map((d) => {
    const up = path.join(work, "up", d);
    const w = path.join(work, "w", d);
    fs.mkdirSync(up, { recursive: true });
    fs.mkdirSync(w, { recursive: true });
    return `mount -t overlay overlay -o lowerdir=${d},upperdir=${up},workdir=${w} ${d}`;
  });
  const inner = [
    "set -e",
    ...mounts,
    // the host starts clean: no earlier boot's policy-rc.d, no Datadog list
    "rm -f /usr/sbin/policy-rc.d /etc/apt/sources.list.d/datadog.list",
    ...writes.map((w) => w.replace(/^install /, `${JSON.stringify(tool("install"))} `)),
    `set +e`,
    `PATH=${bin}:$PATH ${doc.runcmd[0]!.map((a) => JSON.stringify(a)).join(" ")}`,
  ].join("\n");
  const env = {
    ...process.env,
    EVENTS: events,
    SSM: table("ssm", s.ssm),
    S3: table("s3", s.s3 ?? {}),
    FLAKY: table("flaky", s.flakyFetches ?? {}),
    DD_ENV_FILE: ddEnv ?? "/nonexistent",
    REAL_CURL: tool("curl"),
    REAL_GPGV: tool("gpgv"),
    REAL_GPG: tool("gpg"),
    REAL_SHA256SUM: tool("sha256sum"),
    REAL_INSTALL: tool("install"),
  };
  const r = spawnSync(tool("unshare"), ["--mount", "--propagation", "private", tool("bash"), "-c", inner], {
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  const lines = fs
    .readFileSync(events, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
  const upper = new Map(overlaid.map((d) => [d, path.join(work, "up", d)]));
  const snapshot = new Map<string, { content: string; mode: number }>();
  for (const [d, up] of upper)
    for (const f of walk(up))
      snapshot.set(path.join(d, path.relative(up, f)), {
        content: fs.readFileSync(f, "latin1"),
        mode: fs.statSync(f).mode & 0o777,
      });
  return {
    status: r.status,
    stderr: r.stderr,
    events: lines,
    journal: lines.filter((e) => e[0] === "journal").map((e) => e.slice(2).join("\t")),
    journalTags: [...new Set(lines.filter((e) => e[0] === "journal").map((e) => e[1]!))],
    file: (p) => snapshot.get(p),
  };
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

/** A throwaway OpenPGP home for test keys; `close` ends the gpg-agent it started and removes it. */
export function testKeys(dir: string) {
  const home = fs.mkdtempSync(path.join(dir, "gnupg-"));
  const gpg = (args: string[], input?: string) => {
    const r = spawnSync(tool("gpg"), ["--homedir", home, "--batch", "--yes", ...args], { encoding: "utf8", input });
    if (r.status !== 0) throw new Error(`gpg ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const fingerprintOf = (uid: string) =>
    gpg(["--with-colons", "--list-keys", uid])
      .split("\n")
      .find((l) => l.startsWith("fpr:"))!
      .split(":")[9]!;
  return {
    /** A new ed25519 signing key; its fingerprint. */
    create(uid: string): string {
      gpg(["--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"]);
      return fingerprintOf(uid);
    },
    armored: (fpr: string) => gpg(["--armor", "--export", fpr]),
    binary: (fpr: string) =>
      spawnSync(tool("gpg"), ["--homedir", home, "--batch", "--export", fpr], { maxBuffer: 1 << 20 }).stdout,
    /** Detached binary signature of `file` by `fpr`, written to `file.sig`. */
    sign(fpr: string, file: string): void {
      gpg(["--local-user", fpr, "--output", `${file}.sig`, "--detach-sign", file]);
    },
    close(): void {
      spawnSync("gpgconf", ["--homedir", home, "--kill", "all"]);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
