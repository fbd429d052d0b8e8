// First step of `npm test`: the Debian packages whose programs the tests start (test/support/packages.json).
// As root it installs the missing ones with apt-get, as the demo does; otherwise it stops at once and
// prints the one command to run. Plain JavaScript, so it runs before anything is compiled.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { commands, files } = JSON.parse(
  fs.readFileSync(path.join(here, "..", "test", "support", "packages.json"), "utf8"),
);
const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"].filter(Boolean);
const found = (cmd) => dirs.some((d) => fs.existsSync(path.join(d, cmd)));

const missing = [
  ...Object.entries(commands)
    .filter(([cmd]) => !found(cmd))
    .map(([, pkg]) => pkg),
  ...Object.entries(files)
    .filter(([file]) => !fs.existsSync(file))
    .map(([, pkg]) => pkg),
];
const packages = [...new Set(missing)].sort();
if (packages.length === 0) process.exit(0);

const install = `apt-get install -y --no-install-recommends ${packages.join(" ")}`;
if (process.getuid?.() !== 0 || !found("apt-get")) {
  console.error(
    `npm test needs these Debian packages: ${packages.join(" ")}\nrun: sudo apt-get update && sudo ${install}`,
  );
  process.exit(1);
}
console.error(`installing the Debian packages the tests run: ${packages.join(" ")}`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
try {
  execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
} catch {
  console.error(`apt-get failed; run it yourself: ${install}`);
  process.exit(1);
}
const still = Object.entries(commands)
  .filter(([cmd]) => !found(cmd))
  .map(([cmd]) => cmd);
if (still.length) {
  console.error(`still missing after apt-get: ${still.join(" ")}`);
  process.exit(1);
}
