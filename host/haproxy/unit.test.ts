import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHaproxyUnit } from "./unit";

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
  return { ok: r.status === 0 && !/Unknown key|Failed|is not executable/i.test(r.stderr), output: `${r.stdout}${r.stderr}` };
}

describe("renderHaproxyUnit", () => {
  it("passes systemd-analyze verify and rates OK in the offline security check", () => {
    const v = analyze(renderHaproxyUnit(), "verify");
    expect(v.ok, v.output).toBe(true);
    const s = analyze(renderHaproxyUnit(), "security", "--offline=yes", "--threshold=30");
    expect(s.ok, s.output).toBe(true);
    expect(s.output).toMatch(/Overall exposure level for haproxy-lb.service: [0-2]\.\d OK/);
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
    expect(() => renderHaproxyUnit({ adminSocket: "/tmp/admin.sock" })).toThrow(/adminSocket must be under \/run\/haproxy\//);
  });
});
