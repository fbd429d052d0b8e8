// The service unit's sandbox run by a real systemd (a user manager in private namespaces, see
// test/support/systemdUser.ts): what its IP filter lets the service reach, and what its system call
// filter lets Node do. Only loopback: the instance metadata addresses live on the namespace's own lo.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { renderUnit } from "./unit";
import { sampleInput } from "../test/support/hostInput";
import { SystemdUser, systemdUserUnavailable } from "../test/support/systemdUser";
import { nodeRuntime } from "../contract/runtime";
import { serviceNode } from "../test/support/runtime";
import { tool } from "../test/support/tools";

const input = sampleInput();
// The sandbox must let the Node production runs do its work: the pinned binary, not the tools' Node.
const node = serviceNode();
const imds = ["169.254.169.254", "fd00:ec2::254"];
const vpcHost = "10.20.0.5";
/** TEST-NET-1: an address outside every allow-list here. */
const elsewhere = "192.0.2.10";
const port = 8080;

// These three fail with 226/NAMESPACE on this test machine (its own mounts cannot be remounted inside a
// unit's namespace); the VM test (vm/) runs the unit whole. Everything else of the sandbox runs here.
const notHere = /^(ProtectHome|ProtectKernelTunables|ProtectKernelLogs)=/;

/** The unit's sandbox directives (from "# Sandbox." to [Install]), without comments. */
function sandbox(unit: string): string[] {
  const from = unit.indexOf("# Sandbox.");
  expect(from).toBeGreaterThan(0);
  return unit
    .slice(from, unit.indexOf("[Install]"))
    .split("\n")
    .filter((l) => /^[A-Z]\w+=/.test(l) && !notHere.test(l));
}

// Connects to every address (no `$`, `%` or `"`: the text goes into a unit's ExecStart) and prints
// {address: "ok" | "blocked" | errno}. A packet the BPF filter drops shows as a connect that never completes.
const probe = (addresses: string[]) =>
  `const net=require('net');const out={};let n=${addresses.length};` +
  `for(const a of ${JSON.stringify(addresses).replaceAll('"', "'")}){const s=net.connect({host:a,port:${port}});` +
  `const done=(r)=>{if(out[a])return;out[a]=r;s.destroy();if(--n===0)console.log(JSON.stringify(out))};` +
  `s.setTimeout(1500,()=>done('blocked'));s.on('connect',()=>done('ok'));s.on('error',(e)=>done(e.code==='EPERM'?'blocked':e.code))}`;

const listener = (addresses: string[]) =>
  `const net=require('net');for(const a of ${JSON.stringify(addresses).replaceAll('"', "'")})net.createServer((s)=>{s.on('error',()=>{});s.end('hi')}).listen(${port},a)`;

let sd: SystemdUser | undefined;
afterEach(async () => {
  await sd?.stop();
  sd = undefined;
});

const unavailable = systemdUserUnavailable();

describe("service unit sandbox under systemd", () => {
  // A missing capability fails the tests with what to install or enable; it never skips them.
  beforeAll(() => {
    if (unavailable) throw new Error(`the service unit sandbox tests need systemd --user: ${unavailable}`);
  });
  async function reach(unit: string): Promise<{ root: Record<string, string>; service: Record<string, string> }> {
    const all = [...imds, vpcHost, elsewhere, "127.0.0.1"];
    sd = new SystemdUser({
      addresses: ["169.254.169.254/32", "fd00:ec2::254/128", `${vpcHost}/32`, `${elsewhere}/32`],
    });
    await sd.start();
    const l = sd.startUnit("listener.service", ["Type=simple", `ExecStart=${node} -e "${listener(all)}"`]);
    expect(l.ok, l.status).toBe(true);
    // root outside the unit: the reference (it reaches everything once the listener is up)
    let root: Record<string, string> = {};
    for (let i = 0; i < 50; i++) {
      const r = sd.exec(node, ["-e", probe(all)]);
      root = JSON.parse(r.stdout || "{}") as Record<string, string>;
      if (Object.values(root).length === all.length && Object.values(root).every((v) => v === "ok")) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const svc = sd.startUnit("probe.service", [
      "Type=oneshot",
      ...sandbox(unit),
      `ExecStart=${node} -e "${probe(all)}"`,
    ]);
    expect(svc.ok, `${svc.status}\n${svc.stderr}`).toBe(true);
    return { root, service: JSON.parse(svc.stdout) as Record<string, string> };
  }

  it("denies the service the instance metadata addresses (IPv4 and IPv6) while root reaches them; the rest stays open by default", async () => {
    const { root, service } = await reach(renderUnit(input));
    expect(root).toEqual({
      "169.254.169.254": "ok",
      "fd00:ec2::254": "ok",
      [vpcHost]: "ok",
      [elsewhere]: "ok",
      "127.0.0.1": "ok",
    });
    expect(service).toEqual({
      "169.254.169.254": "blocked",
      "fd00:ec2::254": "blocked",
      [vpcHost]: "ok",
      [elsewhere]: "ok",
      "127.0.0.1": "ok",
    });
  });

  it("with allowOutboundOnlyTo, reaches localhost and the given CIDRs only", async () => {
    const { service } = await reach(renderUnit({ ...input, allowOutboundOnlyTo: ["10.20.0.0/16"] }));
    expect(service).toEqual({
      "169.254.169.254": "blocked",
      "fd00:ec2::254": "blocked",
      [vpcHost]: "ok",
      [elsewhere]: "blocked",
      "127.0.0.1": "ok",
    });
  });

  it("lets V8 make its memory-protection-key calls (pkey_alloc reaches the kernel instead of failing with EPERM)", async () => {
    sd = new SystemdUser({ trace: ["pkey_alloc", "pkey_free", "pkey_mprotect"] });
    await sd.start();
    // The pinned Node asks for a key only where the CPU has them (Node 20 asked on every CPU): a direct
    // pkey_alloc(2) from perl (x86_64 330, aarch64 289) puts the filter's verdict to the test on any machine.
    const pkeyAlloc = process.arch === "arm64" ? 289 : 330;
    const r = sd.startUnit("node.service", [
      "Type=oneshot",
      ...sandbox(renderUnit(input)),
      `ExecStart=${node} -e "console.log(process.version)"`,
      `ExecStart=${tool("perl")} -e "syscall(${pkeyAlloc}, 0, 0)"`,
    ]);
    expect(r.ok, `${r.status}\n${r.stderr}`).toBe(true);
    expect(r.stdout.trim()).toBe(`v${nodeRuntime.version}`);
    const calls = await sd.stop();
    sd = undefined;
    const pkey = calls.split("\n").filter((l) => l.includes("pkey_alloc("));
    console.log(`pkey calls under the unit's filter:\n${pkey.join("\n")}`);
    expect(pkey.length).toBeGreaterThan(0);
    // EINVAL on a CPU without protection keys, a key number on one with them; never the filter's EPERM.
    for (const l of pkey) expect(l).not.toMatch(/EPERM/);
  });
});
