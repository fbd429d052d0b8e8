// The HAProxy node's user-data, each embedded file checked by the program that reads it, and one broken
// rendering of each that the same program must reject.
import { fleetDnsNames, hostPaths } from "../../contract/layout";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { HostInputError, compressUserData, renderPapertrailAction, userDataLimitBytes, withHostBaseDefaults } from "..";
import { gtlsDriverPresent, run, tempDir, tool } from "../../test/support/tools";
import { NodeUserDataOptions, haproxyCheckPath, nodeHealthCheck, renderNodeUserData } from "./nodeUserData";

const dir = tempDir("haproxy-node");
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  fs.rmSync(dir, { recursive: true, force: true });
});

const options: NodeUserDataOptions = {
  env: "prod",
  fleetDnsName: fleetDnsNames("sample-api", "prod").fleet,
  serverSlots: 6,
};
const userData = renderNodeUserData(options);
const files = new Map<string, string>(
  (parse(userData).write_files as { path: string; content: string }[]).map((f) => [f.path, f.content]),
);
const file = (p: string) => {
  const text = files.get(p);
  if (text === undefined) throw new Error(`user-data writes no ${p}; it writes ${[...files.keys()].join(", ")}`);
  return text;
};
let n = 0;
const write = (name: string, text: string) => {
  const sub = path.join(dir, String(n++));
  fs.mkdirSync(sub);
  fs.writeFileSync(path.join(sub, name), text);
  return path.join(sub, name);
};

describe("HAProxy node user-data", () => {
  it("cloud-init schema accepts it; a misspelt key is rejected", () => {
    const ok = run("cloud-init", ["schema", "--config-file", write("user-data", userData)]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = run("cloud-init", [
      "schema",
      "--config-file",
      write("user-data", userData.replace("permissions:", "permisions:")),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/permisions/);
  });

  it("stays under EC2's 16 KB as sent (gzipped), runs the boot script and holds no secret value", () => {
    const sent = compressUserData(userData).length;
    console.log(
      `HAProxy node user-data: ${Buffer.byteLength(userData)} bytes as text, ${sent} gzipped, of ${userDataLimitBytes}`,
    );
    expect(sent).toBeLessThan(userDataLimitBytes);
    expect(parse(userData).runcmd).toEqual([[hostPaths("haproxy").bootScript]]);
    const marker = "SECRET-MARKER-9c1e";
    const sneaky = {
      ...options,
      datadogApiKey: marker,
      papertrailDestination: `${marker}.papertrailapp.com:1234`,
      service: { name: "sample-api", apiKey: marker },
      logs: { papertrail: marker },
    } as unknown as NodeUserDataOptions;
    const ud = renderNodeUserData(sneaky);
    expect(ud).not.toContain(marker);
    // The same SSM parameters as the service hosts, by name.
    expect(ud).toContain("ssm_datadog_api_key='/sample-api/prod/datadog-api-key'");
    expect(ud).toContain("ssm_papertrail_destination='/sample-api/prod/papertrail-destination'");
  });

  it("haproxy -c accepts the embedded haproxy.cfg; a broken one is rejected", () => {
    const cfg = file("/etc/haproxy/haproxy.cfg");
    expect(cfg).toContain(`server-template app 6 ${options.fleetDnsName}:3000`);
    // The NLB's health check (components/haproxy-tier/nlb.ts): on every address, fails with no usable service host.
    expect(cfg).toMatch(new RegExp(`frontend health\\n\\s+bind 0\\.0\\.0\\.0:${nodeHealthCheck.port}\\n`));
    expect(cfg).toContain(`monitor-uri ${nodeHealthCheck.path}\n`);
    expect(cfg).toContain("monitor fail if { nbsrv(app) lt 1 }");
    expect(renderNodeUserData({ ...options, healthPort: 9000 })).toContain("bind 0.0.0.0:9000");
    const ok = run("haproxy", ["-c", "-f", write("haproxy.cfg", cfg)]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = run("haproxy", ["-c", "-f", write("haproxy.cfg", `${cfg}\nbackend broken\n    server x\n`)]);
    expect(bad.status).not.toBe(0);
  });

  it("systemd-analyze verify accepts the hardened haproxy.service; a bad value is rejected", () => {
    const unit = file("/etc/systemd/system/haproxy.service");
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/haproxy -Ws -f \/etc\/haproxy\/haproxy.cfg$/m);
    const verify = (text: string) => {
      const r = run("systemd-analyze", ["verify", write("haproxy.service", text)]);
      return {
        ok: r.status === 0 && !/Unknown key|Failed|is not executable/i.test(r.stderr),
        output: r.stdout + r.stderr,
      };
    };
    const ok = verify(unit);
    expect(ok.ok, ok.output).toBe(true);
    expect(verify(unit.replace("KillMode=mixed", "KillMode=sometimes")).ok).toBe(false);
  });

  it("rsyslogd -N1 accepts the rules with the Papertrail include; a misspelt parameter is rejected", () => {
    gtlsDriverPresent();
    const rules = file("/etc/rsyslog.d/10-haproxy.conf");
    // HAProxy's journal lines (SyslogIdentifier haproxy) go to its own file and through the forwarding include.
    expect(rules).toContain('if $programname == "haproxy" then call haproxy');
    expect(rules).toContain('file="/var/log/haproxy/haproxy.log"');
    const include = hostPaths("sample-api").papertrailInclude;
    expect(rules).toContain(`include(file="${include}" mode="optional")`);
    expect(rules).not.toMatch(/omfwd|target=/);
    const base = withHostBaseDefaults(options);
    const action = renderPapertrailAction(base, { host: "logs1.papertrailapp.com", port: 12345 });
    const check = (actionText: string) =>
      run("rsyslogd", [
        "-N1",
        "-f",
        write("rsyslog.conf", rules.replace(include, write("papertrail.conf", actionText))),
      ]);
    const ok = check(action);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toMatch(/error/i);
    const bad = check(action.replace("StreamDriverAuthMode", "StreamDriverAuthMod"));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/StreamDriverAuthMod/);
  });

  it("logrotate -d accepts the rotation of /var/log/haproxy; a bad count is rejected", () => {
    const conf = file("/etc/logrotate.d/haproxy");
    expect(conf).toMatch(/^\/var\/log\/haproxy\/\*\.log \{$/m);
    const state = path.join(dir, "logrotate.state");
    const ok = run("logrotate", ["-d", "-s", state, write("haproxy", conf)]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(
      run("logrotate", ["-d", "-s", state, write("haproxy", conf.replace(/rotate \d+/, "rotate many"))]).status,
    ).not.toBe(0);
  });

  it("shellcheck passes the boot script: HAProxy and socat, the same SSM secret handling, haproxy.service last", () => {
    const script = file(hostPaths("haproxy").bootScript);
    expect(script).toMatch(/missing_debs ca-certificates rsyslog rsyslog-gnutls logrotate gnupg haproxy socat\)/);
    expect(script).toMatch(/aws ssm get-parameter .*--with-decryption --name "\$1"/);
    expect(script).toContain(`write_secret ${hostPaths("sample-api").datadogEnvFile} "DD_API_KEY=$dd_api_key"`);
    expect(script).not.toMatch(/node|bundle/i);
    expect(script.trimEnd().split("\n").slice(-3)).toEqual([
      'systemctl enable "$unit"',
      'systemctl restart "$unit"',
      'log "boot ok: $unit started, ${SECONDS}s after the script started"',
    ]);
    expect(script).toContain("unit='haproxy.service'");
    expect(parse(userData).final_message).toBe(
      "sample-api HAProxy node: cloud-init finished $UPTIME s after boot (boot script result: journalctl -t haproxy-boot)",
    );
    const ok = run("shellcheck", ["-s", "bash", write("boot.sh", script)]);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const bad = run("shellcheck", [
      "-s",
      "bash",
      write("boot.sh", script.replace('apt_install "${debs[@]}"', "apt_install ${debs[@]}")),
    ]);
    expect(bad.status).not.toBe(0);
  });

  it("points the Datadog HAProxy check at the stats frontend, which real HAProxy serves as CSV there", async () => {
    const check = parse(file(haproxyCheckPath));
    const instance = check.instances[0];
    expect(instance).toMatchObject({
      url: "http://127.0.0.1:8404/stats",
      use_openmetrics: false,
      use_prometheus: false,
      tags: ["env:prod", "service:sample-api"],
    });
    const agent = parse(file("/etc/datadog-agent/conf.d/journald.d/conf.yaml"));
    expect(agent.logs[0]).toMatchObject({ type: "journald", include_units: ["haproxy.service"], source: "haproxy" });
    expect(parse(file("/etc/datadog-agent/datadog.yaml"))).not.toHaveProperty("api_key");

    // The node's config on loopback ephemeral ports (no DNS beyond loopback, no /run): stats answer at the check's path.
    const [statsPort, httpPort, dnsPort] = await freePorts(3);
    const work = path.join(dir, "run");
    fs.mkdirSync(work);
    const url = new URL(instance.url);
    const cfg = file("/etc/haproxy/haproxy.cfg")
      .replace(`bind ${url.hostname}:${url.port}`, `bind ${url.hostname}:${statsPort}`)
      .replace(/bind 0\.0\.0\.0:8080\b/, `bind 127.0.0.1:${httpPort}`)
      .replace(/nameserver dns1 \S+/, `nameserver dns1 127.0.0.1:${dnsPort}`)
      .replace(/stats socket \S+/, `stats socket ${work}/admin.sock`)
      .replace(/server-state-file \S+/, `server-state-file ${work}/server-state`)
      .replace(/log \/dev\/log .*/, "log stdout format raw local0 info");
    expect(cfg).toContain(`bind 127.0.0.1:${statsPort}`);
    const cfgPath = write("haproxy.cfg", cfg);
    const haproxy = spawn(tool("haproxy"), ["-db", "-f", cfgPath], { stdio: ["ignore", "pipe", "pipe"] });
    procs.push(haproxy);
    let output = "";
    haproxy.stdout!.on("data", (d) => (output += d));
    haproxy.stderr!.on("data", (d) => (output += d));
    // The check appends `;csv;norefresh` to its url.
    const csvUrl = `http://127.0.0.1:${statsPort}${url.pathname};csv;norefresh`;
    const body = await poll(
      csvUrl,
      () => haproxy.exitCode !== null,
      () => output,
    );
    expect(body).toMatch(/^# pxname,svname,/);
    expect(body).toMatch(/^app,app1,/m);
    haproxy.kill("SIGTERM");
  });

  it("listens on 8080 by default and refuses a port below 1024 (the unit grants HAProxy no capability to bind one)", () => {
    expect(file("/etc/haproxy/haproxy.cfg")).toMatch(/^\s*bind 0\.0\.0\.0:8080$/m);
    expect(file("/etc/systemd/system/haproxy.service")).toMatch(/^CapabilityBoundingSet=$/m);
    expect(() => renderNodeUserData({ ...options, listenPort: 80 })).toThrow(/listenPort: 80 must be 1024-65535/);
    expect(() => renderNodeUserData({ ...options, listenPort: 1024 })).not.toThrow();
  });

  it("sends HSTS only when the NLB has a certificate, and logs query keys only unless logFullUrl", () => {
    const cfg = (o: Partial<NodeUserDataOptions>) => {
      const ud = parse(renderNodeUserData({ ...options, ...o })).write_files as { path: string; content: string }[];
      return ud.find((f) => f.path === "/etc/haproxy/haproxy.cfg")!.content;
    };
    expect(file("/etc/haproxy/haproxy.cfg")).not.toMatch(/Strict-Transport-Security/);
    expect(cfg({ https: true })).toMatch(
      /http-after-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains"/,
    );
    expect(file("/etc/haproxy/haproxy.cfg")).toContain(
      `set-var-fmt(txn.log_url) "%[path]?%[query,regsub('=[^&]*','',g)]"`,
    );
    expect(cfg({ logFullUrl: true })).toMatch(/^\s*option httplog$/m);
  });

  it("refuses bad input with one error naming each field", () => {
    const bad = () =>
      renderNodeUserData({ ...options, env: "Prod!", region: "mars", serverSlots: 0, service: { port: 0 } });
    expect(bad).toThrow(HostInputError);
    expect(bad).toThrow(
      /invalid HAProxy node input:\n {2}service\.port:.*\n {2}env:.*\n {2}region:.*\n(.|\n)*serverTemplate\.count: 0/,
    );
    // The host part and haproxy.cfg both check the service settings; the user reads each problem once.
    expect(() => bad()).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/service\.port:[\s\S]*service\.port:/) }),
    );
  });
});

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** GET until it answers 200 (HAProxy is starting), at most 50 tries; fails with HAProxy's output. */
async function poll(url: string, exited: () => boolean, output: () => string): Promise<string> {
  for (let i = 0; i < 50 && !exited(); i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return await r.text();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no stats at ${url}; haproxy said:\n${output()}`);
}
