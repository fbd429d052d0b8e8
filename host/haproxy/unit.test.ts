import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { renderHaproxyUnit } from "./unit";
import { renderHaproxyConfig } from "./config";
import { SystemdUser, systemdUserUnavailable } from "../../test/support/systemdUser";
import { tool } from "../../test/support/tools";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-unit-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function analyze(text: string, ...args: string[]) {
  const file = path.join(dir, "haproxy-lb.service");
  fs.writeFileSync(file, text);
  const r = spawnSync("systemd-analyze", [...args, file], { encoding: "utf8" });
  if (r.error) throw new Error("systemd-analyze is not installed: run `apt-get install -y systemd`");
  return {
    ok: r.status === 0 && !/Unknown key|Failed|is not executable/i.test(r.stderr),
    output: `${r.stdout}${r.stderr}`,
  };
}

/** The overall exposure `systemd-analyze security --offline=yes` prints, as a number. */
function exposure(text: string): number {
  const s = analyze(text, "security", "--offline=yes", "--no-pager");
  const m = /Overall exposure level for haproxy-lb\.service: (\d+(?:\.\d+)?)/.exec(s.output);
  if (!m) throw new Error(`no exposure level in:\n${s.output}`);
  return Number(m[1]);
}

describe("renderHaproxyUnit", () => {
  // A missing capability fails the tests with what to install or enable; it never skips them.
  beforeAll(() => {
    if (unavailable) throw new Error(`the HAProxy unit run test needs systemd --user: ${unavailable}`);
  });
  it("passes systemd-analyze verify", () => {
    const v = analyze(renderHaproxyUnit(), "verify");
    expect(v.ok, v.output).toBe(true);
  });

  it("rates exposure <= 1.5 in systemd-analyze security (the project's goal for every unit)", () => {
    const score = exposure(renderHaproxyUnit());
    console.log(`haproxy.service exposure: ${score}`);
    expect(score).toBeLessThanOrEqual(1.5);
    // the number is parsed, not matched: a unit without the sandbox rates far above the goal
    const text = renderHaproxyUnit();
    const bare = text.slice(0, text.indexOf("# Sandbox")) + text.slice(text.indexOf("[Install]"));
    expect(exposure(bare)).toBeGreaterThan(5);
  });

  it("is checked by a validator that rejects a broken unit", () => {
    const v = analyze(renderHaproxyUnit().replace("KillMode=mixed", "KillMode=sometimes"), "verify");
    expect(v.ok).toBe(false);
  });

  it("reloads hitlessly: config check, state saved, SIGUSR2 to the master", () => {
    const text = renderHaproxyUnit();
    expect(text).toMatch(/^Type=notify$/m);
    expect(text).toMatch(/^ExecStart=\/usr\/sbin\/haproxy -Ws /m);
    expect(text).toMatch(/show servers state.*> \/var\/lib\/haproxy\/server-state\.new/);
    expect(text).toMatch(/^ExecReload=\/bin\/kill -USR2 \$MAINPID$/m);
    expect(() => renderHaproxyUnit({ adminSocket: "/tmp/admin.sock" })).toThrow(
      /adminSocket must be under \/run\/haproxy\//,
    );
  });
});

// The rendered unit run by systemd itself (a user manager in private namespaces: test/support/systemdUser.ts),
// with HAProxy's real binary and the rendered haproxy.cfg. Paths under /run/haproxy and /var/lib/haproxy
// become the user manager's RuntimeDirectory= and StateDirectory=. ProtectHome, ProtectKernelTunables
// and ProtectKernelLogs fail with 226/NAMESPACE on this test machine and are left out here.
const unavailable =
  systemdUserUnavailable() ??
  (spawnSync("id", ["haproxy"]).status !== 0 ? "no haproxy user: apt-get install -y haproxy" : undefined);
let sd: SystemdUser | undefined;
afterEach(async () => {
  await sd?.stop();
  sd = undefined;
});

describe("haproxy.service under systemd", () => {
  it("starts (Type=notify) on 8080 with no capability in its own user namespace, serves, reloads with saved server states, stops", async () => {
    tool("socat");
    sd = new SystemdUser();
    await sd.start();
    const node = process.execPath;
    const run = path.join(sd.runtime, "haproxy");
    const state = path.join(sd.state, "haproxy");
    const config = path.join(sd.dir, "haproxy.cfg");
    fs.writeFileSync(
      config,
      renderHaproxyConfig({
        log: "stdout",
        servers: [{ name: "a1", address: "127.0.0.1", port: 3000 }],
        adminSocket: `${run}/admin.sock`,
        serverStateFile: `${state}/server-state`,
      }),
    );
    const app = sd.startUnit("app.service", [
      "Type=simple",
      `ExecStart=${node} -e "require('http').createServer((q,s)=>s.end('app')).listen(3000,'127.0.0.1')"`,
    ]);
    expect(app.ok, app.status).toBe(true);
    const unit = renderHaproxyUnit({ config })
      .replaceAll("/run/haproxy/", `${run}/`)
      .replaceAll("/var/lib/haproxy/", `${state}/`);
    const lines = unit
      .slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"))
      .split("\n")
      .filter((l) => /^[A-Z]\w+=/.test(l) && !/^(ProtectHome|ProtectKernelTunables|ProtectKernelLogs)=/.test(l));
    const started = sd.startUnit("haproxy.service", [...lines, "TimeoutStartSec=20"]);
    expect(started.ok, `${started.status}\n${started.stderr}`).toBe(true);

    const get = (url: string) =>
      sd!
        .exec(node, [
          "-e",
          `fetch('${url}').then(async (r) => console.log(r.status, (await r.text()).split('\\n')[0])).catch((e) => console.log('ERR', e.cause?.code ?? e.message))`,
        ])
        .stdout.trim();
    expect(get("http://127.0.0.1:8080/a")).toBe("200 app");
    expect(get("http://127.0.0.1:8404/stats;csv")).toMatch(/^200 # pxname,svname,/);
    const pid = sd.systemctl("show", "-p", "MainPID", "--value", "haproxy.service").stdout.trim();
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^CapBnd:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    // PrivateUsers=yes: a user namespace that maps root and the haproxy user, and no other user.
    const uid = /^Uid:\s+(\d+)/m.exec(status)![1];
    const map = fs
      .readFileSync(`/proc/${pid}/uid_map`, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/));
    expect(map).toEqual([
      ["0", "0", "1"],
      [uid, uid, "1"],
    ]);

    const reload = sd.systemctl("reload", "haproxy.service");
    expect(reload.status, reload.stderr).toBe(0);
    expect(fs.readFileSync(`${state}/server-state`, "utf8")).toMatch(/^\d+ app 1 a1 127\.0\.0\.1 2 /m);
    expect(sd.systemctl("show", "-p", "MainPID", "--value", "haproxy.service").stdout.trim()).toBe(pid);
    expect(get("http://127.0.0.1:8080/b?token=secret")).toBe("200 app");

    const stop = sd.systemctl("stop", "haproxy.service");
    expect(stop.status, stop.stderr).toBe(0);
    expect(sd.systemctl("show", "-p", "Result", "--value", "haproxy.service").stdout.trim()).toBe("success");
    const log = fs.readFileSync(path.join(sd.dir, "haproxy.service.out"), "utf8");
    expect(log).toContain('"GET /b?token HTTP/1.1"');
  }, 120_000);
});
