import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { fleetDnsNames, renderTierHaproxyConfig } from "../components/haproxy";
import { withServiceDefaults } from "../components/service/settings";
import { haproxyConfigPath, renderHaproxyNodeUserData } from "./haproxy-node";

let dir = "";
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = "";
});

function tool(cmd: string, pkg: string): string {
  for (const d of ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]) if (fs.existsSync(path.join(d, cmd))) return path.join(d, cmd);
  throw new Error(`${cmd} missing: apt-get install -y ${pkg}`);
}

it("HAProxy node user-data: cloud-init accepts it, and haproxy accepts the config it writes", () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-node-"));
  const haproxyConfig = renderTierHaproxyConfig({ service: withServiceDefaults(), fleetDnsName: fleetDnsNames("sample-api", "dev").fleet, serverSlots: 4, listenPort: 80 });
  const userData = renderHaproxyNodeUserData({ haproxyConfig });
  const file = path.join(dir, "user-data.yaml");
  fs.writeFileSync(file, userData);
  const schema = spawnSync(tool("cloud-init", "cloud-init"), ["schema", "--config-file", file], { encoding: "utf8" });
  expect(schema.status, schema.stdout + schema.stderr).toBe(0);
  const written = parseYaml(userData).write_files.find((f: { path: string }) => f.path === haproxyConfigPath);
  expect(written.content).toBe(haproxyConfig);
  const cfg = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(cfg, written.content);
  const check = spawnSync(tool("haproxy", "haproxy"), ["-c", "-f", cfg], { encoding: "utf8" });
  expect(check.status, check.stdout + check.stderr).toBe(0);
  // The check can fail: a broken config is refused by the same tool.
  fs.writeFileSync(cfg, `${written.content}\nbackend broken\n  server x\n`);
  expect(spawnSync(tool("haproxy", "haproxy"), ["-c", "-f", cfg], { encoding: "utf8" }).status).not.toBe(0);
});
