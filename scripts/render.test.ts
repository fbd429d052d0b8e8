// Runs `npm run render` as a real process, as a person would before a pull request.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const temps: string[] = [];
afterEach(() => {
  while (temps.length) fs.rmSync(temps.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
  temps.push(d);
  return d;
}
function render(args: string[], cwd = root) {
  // The script itself, through ts-node as package.json's "render" runs it, from `cwd` (where Pulumi.<stack>.yaml is).
  const r = spawnSync(
    path.join(root, "node_modules/.bin/ts-node"),
    ["--transpile-only", path.join(root, "scripts/render.ts"), ...args],
    { cwd, encoding: "utf8", timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run render", () => {
  it("is the script package.json names", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.scripts.render).toBe("ts-node --transpile-only scripts/render.ts");
  });

  it.each(["dev", "prod"])("writes every host file of %s at its host path, and the user-data beside them", (stack) => {
    const out = tempDir();
    const r = render(["--stack", stack, "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^bundle: /);
    for (const p of [
      "etc/systemd/system/sample-api.service",
      "etc/rsyslog.d/10-sample-api.conf",
      "etc/logrotate.d/sample-api",
      "etc/sample-api/sample-api.env",
      "user-data.yaml",
    ])
      expect(fs.existsSync(path.join(out, p)), p).toBe(true);
    expect(fs.readdirSync(path.join(out, "etc/datadog-agent")).length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(out, "etc/sample-api/sample-api.env"), "utf8")).toContain(`DD_ENV=${stack}`);
    const userData = fs.readFileSync(path.join(out, "user-data.yaml"), "utf8");
    expect(userData.startsWith("#cloud-config")).toBe(true);
    expect(userData).toContain(`/sample-api/${stack}/papertrail-destination`);
    // Every file written is listed on stdout, and nothing else was written.
    const listed = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("wrote "))
      .map((l) => l.slice(6).replace(/^\//, ""))
      .sort();
    const onDisk = (fs.readdirSync(out, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(out, f)).isFile())
      .sort();
    expect(onDisk).toEqual(listed);
    // The real validator accepts the rendered user-data.
    const schema = spawnSync("cloud-init", ["schema", "--config-file", path.join(out, "user-data.yaml")], {
      encoding: "utf8",
    });
    expect(schema.error, "cloud-init missing: apt-get install -y cloud-init").toBeUndefined();
    expect(schema.status, schema.stdout + schema.stderr).toBe(0);
  });

  it.each([
    ["minSize: 3", "minSize: 0", /^invalid stack config: minSize: must be >= 1$/],
    [
      "node-service-aws:env: prod",
      "node-service-aws:env: prod\n  node-service-aws:workerz: 2",
      /^invalid stack config: workerz: unknown key/,
    ],
    [
      "deregistrationDelaySec: 30",
      "deregistrationDelaySec: 45",
      /^invalid stack config: deregistrationDelaySec: 45 must be above drainDelayMs/,
    ],
  ])("refuses an invalid stack file (%s -> %s) with one line naming the key, exit 1", (from, to, message) => {
    const dir = tempDir();
    const text = fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8");
    expect(text).toContain(from);
    // Named prod, as its env says: a stack's env is its name (infra/config.ts scopeProblems).
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), text.replace(from, to));
    const r = render(["--stack", "prod", "--out", path.join(dir, "out")], dir);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(message)]);
    expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
  });

  it("reads what pulumi config set writes (strings for integer and boolean keys) as pulumi up does", () => {
    const dir = tempDir();
    const text = fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8");
    for (const from of ["node-service-aws:port: 3000", "node-service-aws:warmPool: true"]) expect(text).toContain(from);
    fs.writeFileSync(
      path.join(dir, "Pulumi.prod.yaml"),
      text
        .replace("node-service-aws:port: 3000", 'node-service-aws:port: "3001"')
        .replace("node-service-aws:warmPool: true", 'node-service-aws:warmPool: "true"'),
    );
    const out = path.join(dir, "out");
    const r = render(["--stack", "prod", "--out", out], dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(out, "etc/sample-api/sample-api.env"), "utf8")).toMatch(/^PORT=3001$/m);
  });

  it("refuses a stack file whose env is not the stack's name, as pulumi up does", () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev2.yaml"));
    const r = render(["--stack", "dev2", "--out", path.join(dir, "out")], dir);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^invalid stack config: env: "dev" but this stack is dev2: .*pulumi config set env dev2$/),
    ]);
  });

  it("names a missing stack file and the missing arguments", () => {
    const missing = render(["--stack", "nope", "--out", tempDir()]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^invalid stack config: --stack nope: cannot read .*Pulumi\.nope\.yaml/);
    const noOut = render(["--stack", "dev"]);
    expect(noOut.status).toBe(1);
    expect(noOut.stderr).toMatch(
      /^invalid stack config: --out: missing; usage: npm run render -- --stack <name> --out <dir>/,
    );
  });
});
