// Which Node binary a stack's hosts get: the architecture of its instance type, and where that binary is.
import { describe, expect, it } from "vitest";
import { nodeRuntime } from "../contract/runtime";
import { loadStackFile } from "./config";
import { runtimeArchOf, runtimeWhere } from "./host-input";
import { projectRoot } from "../test/support/stack-config";

describe("runtimeArchOf", () => {
  it.each([
    // Graviton 1 to 4, general purpose, compute, memory, storage, GPU, HPC, burstable
    ["a1.large", "arm64"],
    ["t4g.small", "arm64"],
    ["m6g.large", "arm64"],
    ["m6gd.xlarge", "arm64"],
    ["m7g.medium", "arm64"],
    ["c7gn.2xlarge", "arm64"],
    ["r8g.large", "arm64"],
    ["x2gd.metal", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.medium", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["hpc7g.4xlarge", "arm64"],
    // Intel and AMD, including families whose letters contain a g elsewhere
    ["t3.small", "x64"],
    ["m7i.large", "x64"],
    ["m7i-flex.large", "x64"],
    ["c7a.large", "x64"],
    ["g4dn.xlarge", "x64"],
    ["g4ad.xlarge", "x64"],
    ["g6e.xlarge", "x64"],
    ["mac2.metal", "x64"],
    ["u-6tb1.metal", "x64"],
  ])("%s is %s", (type, arch) => {
    expect(runtimeArchOf(type)).toBe(arch);
  });
});

describe("runtimeWhere", () => {
  it("the pinned sha256 of the stack's architecture, under runtimes/ in the bundle bucket", () => {
    const prod = loadStackFile("prod", projectRoot);
    expect(runtimeWhere(prod, "b")).toEqual({
      runtimeUrl: `s3://b/runtimes/${nodeRuntime.sha256.x64}`,
      runtimeSha256: nodeRuntime.sha256.x64,
    });
    expect(runtimeWhere({ ...prod, instanceType: "m7g.large" }, "b").runtimeSha256).toBe(nodeRuntime.sha256.arm64);
  });
});
