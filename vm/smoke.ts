// Boots the VM image with a tiny user-data (a runcmd marker) to check the boot path and time it:
//   npx ts-node --transpile-only vm/smoke.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { boot, cacheDir, ensureImage, killRunningVms, parseReport } from "./harness";

async function main() {
  const t0 = Date.now();
  const image = ensureImage();
  console.log(image.built ? `image built in ${Math.round(image.buildMs / 1000)} s` : `image cached: ${image.dir}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "vmsmoke-"));
  try {
    const r = await boot(
      image,
      {
        userData: "#cloud-config\nruncmd:\n  - [sh, -c, 'echo VMTEST-RUNCMD-OK > /dev/console']\n",
        metaData: "instance-id: i-0smoke\nlocal-hostname: ip-10-0-0-1\n",
        dataFiles: { "check.sh": fs.readFileSync(path.join(__dirname, "check.sh")), "check.env": "MODE=smoke\n" },
        timeoutMs: 10 * 60_000,
      },
      workDir,
    );
    const report = parseReport(r.report);
    console.log(
      r.console
        .split("\n")
        .filter((l) => /VMTEST|cloud-init|Failed|error/i.test(l))
        .slice(-40)
        .join("\n"),
    );
    console.log(r.report);
    console.log(`runcmd marker: ${r.console.includes("VMTEST-RUNCMD-OK")}, report end: ${report.has("end")}`);
    console.log(
      `boot to check start: ${r.bootMs} ms, qemu run: ${r.totalMs} ms, exit ${r.exitCode}, total ${Date.now() - t0} ms`,
    );
    fs.writeFileSync(path.join(cacheDir, "smoke-console.log"), r.console);
  } finally {
    killRunningVms();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
