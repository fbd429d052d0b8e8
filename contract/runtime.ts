// The Node.js that runs the service, everywhere: production hosts, the service's tests, the benchmarks, the
// local fleet and the VM boot. Node 26 is the Active LTS line since October 2026. The binaries are the npm
// packages node-linux-<arch> at this exact version; the sha256 of each package's bin/node is pinned here, so
// a host, a test or a build that gets other bytes refuses them.

/** CPU architectures the fleet runs on, named as npm and Node name them (the AMI's x86_64 is x64). */
export type RuntimeArch = "x64" | "arm64";

export const nodeRuntime = {
  version: "26.12.1",
  /** sha256 of bin/node in the npm package node-linux-<arch>@<version>. */
  sha256: {
    x64: "08f12d42fb304468e8ee86247fe686aae5b225836ea65e9d6566c11ae6ba2e8e",
    arm64: "7d32bda549eb24395c1d9830731470a0045781b15797d5943591c333a085b2da",
  } satisfies Record<RuntimeArch, string>,
} as const;

/** The npm package that carries the runtime binary for an architecture. */
export function runtimePackage(arch: RuntimeArch): string {
  return `node-linux-${arch}`;
}
