// The secrets script, checked by shellcheck and run for real (bash, mktemp, cmp, install, mv, timeout) into a
// temporary folder; only what a host alone has is a recording stand-in on PATH: `aws ssm get-parameter`
// (answering from a folder of values, failing a set number of times first), systemctl, rsyslogd, logger, sleep.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { hostPaths } from "../contract/layout";
import { withHostBaseDefaults } from "./input";
import { retryPolicy } from "./retry";
import { renderSecretsScript, secretConsumers } from "./secrets";
import { run, tempDir, tool } from "../test/support/tools";

const dir = tempDir("secrets");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const input = withHostBaseDefaults({ env: "prod", region: "eu-west-1" });
const p = hostPaths(input.service.name);
const keyA = "a".repeat(32);
const keyB = "b".repeat(32);

const standIns: Record<string, string> = {
  aws: `ev aws "$@"
name=""; prev=""; for a in "$@"; do [ "$prev" = --name ] && name=$a; prev=$a; done
f="$SSM_DIR/\${name//\\//%2F}"
n=$(cat "$f.fails" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$f.fails"; echo "Could not connect to the endpoint URL" >&2; exit 255; fi
[ -f "$f" ] || { echo "ParameterNotFound $name" >&2; exit 254; }
cat "$f"`,
  systemctl: `ev systemctl "$@"`,
  rsyslogd: `ev rsyslogd "$@"`,
  logger: `shift 2; [ "$1" = -- ] && shift; ev journal "$*"`,
  sleep: `ev sleep "$@"`,
};

let work: string;
let secretsDir: string;
let script: string;
let events: string;

/** Puts a parameter's value; `fails` answers that many calls with a connection error first. */
const put = (name: string, value: string, fails = 0) => {
  const f = path.join(work, "ssm", name.replaceAll("/", "%2F"));
  fs.writeFileSync(f, `${value}\n`);
  fs.writeFileSync(`${f}.fails`, String(fails));
};
const runScript = (args: string[] = []) => {
  fs.writeFileSync(events, "");
  const r = spawnSync(tool("bash"), [script, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${path.join(work, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      SECRETS_DIR: secretsDir,
      SSM_DIR: path.join(work, "ssm"),
      EVENTS: events,
    },
    timeout: 60_000,
  });
  const ev = fs
    .readFileSync(events, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
  return {
    status: r.status,
    stderr: r.stderr,
    events: ev,
    journal: ev.filter((e) => e[0] === "journal").map((e) => e[1]),
  };
};
const held = () =>
  Object.fromEntries(
    fs.readdirSync(secretsDir).map((f) => {
      const st = fs.statSync(path.join(secretsDir, f));
      return [f, { content: fs.readFileSync(path.join(secretsDir, f), "utf8"), mode: st.mode & 0o777, ino: st.ino }];
    }),
  );
const restarts = (r: ReturnType<typeof runScript>) =>
  r.events.filter((e) => e[0] === "systemctl").map((e) => e.slice(1).join(" "));

beforeEach(() => {
  work = fs.mkdtempSync(path.join(dir, "run-"));
  secretsDir = path.join(work, "etc", "secrets");
  events = path.join(work, "events");
  fs.mkdirSync(path.join(work, "bin"));
  fs.mkdirSync(path.join(work, "ssm"));
  for (const [name, body] of Object.entries(standIns))
    fs.writeFileSync(
      path.join(work, "bin", name),
      `#!/bin/bash\nev() { local IFS=$'\\t'; printf '%s\\n' "$*" >> "$EVENTS"; }\n${body}\n`,
      { mode: 0o755 },
    );
  script = path.join(work, "secrets.sh");
  fs.writeFileSync(script, renderSecretsScript(input), { mode: 0o755 });
  put(input.ssm.datadogApiKey, keyA);
  put(input.ssm.papertrailDestination, "logs1.papertrailapp.com:11111");
});

describe("renderSecretsScript", () => {
  it("passes shellcheck; the check flags an unquoted expansion", () => {
    const text = renderSecretsScript(input);
    const ok = run("shellcheck", ["-s", "bash", "-"], { input: text });
    expect(ok.stdout + ok.stderr).toBe("");
    const bad = run("shellcheck", ["-s", "bash", "-"], {
      input: text.replace(`mv -f "$tmp" "$secrets_dir/$1"`, `mv -f $tmp "$secrets_dir/$1"`),
    });
    expect(bad.stdout).toMatch(/SC2086/);
  });

  it("names the parameters and the folder of contract/layout.ts, and refuses bad input naming the field", () => {
    const text = renderSecretsScript(input);
    expect(text).toContain("region='eu-west-1'\n");
    expect(text).toContain(`ssm_datadog_api_key='${input.ssm.datadogApiKey}'\n`);
    expect(text).toContain(`secrets_dir="\${SECRETS_DIR:-${p.secrets}}"\n`);
    expect(p.secretsScript).toBe("/usr/local/sbin/sample-api-secrets");
    expect(() => renderSecretsScript({ ...input, region: "eu-west-1; reboot" })).toThrow(
      /invalid secrets script input:\n {2}region: "eu-west-1; reboot" is not an AWS region name/,
    );
  });
});

describe("secrets script on a host", () => {
  it("writes each value once into a root-only 0600 file of a 0700 folder, and logs no value", () => {
    const r = runScript();
    expect(r.status, r.stderr).toBe(0);
    const files = held();
    expect(Object.keys(files).sort()).toEqual(["datadog.env", "papertrail.rsyslog.conf"]);
    expect(files["datadog.env"]).toMatchObject({ content: `DD_API_KEY=${keyA}\n`, mode: 0o600 });
    expect(files["papertrail.rsyslog.conf"]!.mode).toBe(0o600);
    expect(files["papertrail.rsyslog.conf"]!.content).toContain('target="logs1.papertrailapp.com" port="11111"');
    expect(files["papertrail.rsyslog.conf"]!.content).not.toContain(keyA);
    expect(fs.statSync(secretsDir).mode & 0o777).toBe(0o700);
    expect(r.journal).toEqual([
      "secrets: changed=datadog.env papertrail.rsyslog.conf unchanged=none",
      expect.stringMatching(/^step=secrets ok duration=\d+s$/),
    ]);
    expect(r.stderr + JSON.stringify(r.events)).not.toContain(keyA);
    // read decrypted, from the rendered region
    expect(r.events.filter((e) => e[0] === "aws")).toEqual([
      [
        "aws",
        "ssm",
        "get-parameter",
        "--region",
        "eu-west-1",
        "--with-decryption",
        "--name",
        input.ssm.datadogApiKey,
        "--query",
        "Parameter.Value",
        "--output",
        "text",
      ],
      [
        "aws",
        "ssm",
        "get-parameter",
        "--region",
        "eu-west-1",
        "--with-decryption",
        "--name",
        input.ssm.papertrailDestination,
        "--query",
        "Parameter.Value",
        "--output",
        "text",
      ],
    ]);
    expect(restarts(r)).toEqual([]);
  });

  it("--restart: unchanged values restart nothing and leave the files alone; a changed one restarts its reader only", () => {
    expect(runScript().status).toBe(0);
    const before = held();
    let r = runScript(["--restart"]);
    expect(r.status, r.stderr).toBe(0);
    expect(restarts(r)).toEqual([]);
    expect(held()).toEqual(before);
    expect(r.journal[0]).toBe("secrets: changed=none unchanged=datadog.env papertrail.rsyslog.conf");

    put(input.ssm.datadogApiKey, keyB);
    r = runScript(["--restart"]);
    expect(r.status, r.stderr).toBe(0);
    expect(restarts(r)).toEqual([`restart ${secretConsumers.datadog}`]);
    expect(held()["datadog.env"]!.content).toBe(`DD_API_KEY=${keyB}\n`);
    expect(held()["papertrail.rsyslog.conf"]).toEqual(before["papertrail.rsyslog.conf"]);

    put(input.ssm.papertrailDestination, "logs2.papertrailapp.com:22222");
    r = runScript(["--restart"]);
    expect(r.status, r.stderr).toBe(0);
    // rsyslog's config is checked before rsyslog restarts with it
    expect(r.events.filter((e) => e[0] === "rsyslogd" || e[0] === "systemctl").map((e) => e.join(" "))).toEqual([
      "rsyslogd -N1",
      `systemctl restart ${secretConsumers.papertrail}`,
    ]);
    expect(held()["papertrail.rsyslog.conf"]!.content).toContain('target="logs2.papertrailapp.com" port="22222"');
    expect(Object.keys(held())).toHaveLength(2); // no temporary file left behind
  });

  it("refuses a bad value before writing anything: every file stays as it was, nothing restarts", () => {
    expect(runScript().status).toBe(0);
    const before = held();
    put(input.ssm.datadogApiKey, keyB);
    put(input.ssm.papertrailDestination, "no port here");
    let r = runScript(["--restart"]);
    expect(r.status).toBe(1);
    expect(r.journal).toContain(`SSM ${input.ssm.papertrailDestination}: expected host:port`);
    expect(held()).toEqual(before);
    expect(restarts(r)).toEqual([]);
    put(input.ssm.papertrailDestination, "logs1.papertrailapp.com:11111");
    put(input.ssm.datadogApiKey, "short");
    r = runScript(["--restart"]);
    expect(r.status).toBe(1);
    expect(r.journal).toContain(`SSM ${input.ssm.datadogApiKey}: not a Datadog API key`);
    expect(held()).toEqual(before);
  });

  it("retries a failing read with the boot's doubling waits, and gives up within its bound", () => {
    put(input.ssm.datadogApiKey, keyA, 2);
    const flaky = runScript();
    expect(flaky.status, flaky.stderr).toBe(0);
    expect(flaky.events.filter((e) => e[0] === "aws")).toHaveLength(4); // 3 for the key, 1 for Papertrail
    expect(flaky.events.filter((e) => e[0] === "sleep").map((e) => e[1])).toEqual(["2", "4"]);
    expect(flaky.journal).toContain("step=secrets attempt 1 failed, again in 2s: aws");

    put(input.ssm.datadogApiKey, keyB, 99);
    const down = runScript(["--restart"]);
    expect(down.status).toBe(1);
    expect(down.events.filter((e) => e[0] === "aws")).toHaveLength(retryPolicy.attempts);
    expect(down.events.filter((e) => e[0] === "sleep").map((e) => e[1])).toEqual(["2", "4", "8", "16"]);
    expect(down.journal).toContain(`step=secrets gave up after ${retryPolicy.attempts} attempts: aws`);
    expect(held()["datadog.env"]!.content).toBe(`DD_API_KEY=${keyA}\n`);
    expect(restarts(down)).toEqual([]);
  });

  it("answers bad usage with exit 2", () => {
    const r = runScript(["--restrat"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown argument: --restrat/);
    expect(fs.existsSync(secretsDir)).toBe(false);
  });
});
