// `npm run render -- --stack <name> --out <dir>`: writes every host file of a stack, at its host path
// under <dir>, plus <dir>/user-data.yaml, from Pulumi.<name>.yaml alone (no cloud, no secret values), for
// people to read and diff in a pull request.
//
// The bundle: when the bundlePath config key's file (default dist/app/server.js) exists its sha256 is used (so a code change shows up in the diff);
// otherwise a placeholder of 64 zeros, said on stdout. The bucket name exists only after `pulumi up`
// (auto-named), so the URL's bucket is a placeholder either way.
import * as fs from "node:fs";
import * as path from "node:path";
import { HostInputError, renderHostFiles } from "../host/files";
import { renderUserData } from "../host/userData";
import { releaseKey } from "../components/bundle/rules";
import { sha256File } from "../contract/digest";
import { ConfigError, loadStack } from "../infra/config";
import { hostInputOf, runtimeWhere } from "../infra/host-input";

export const placeholderBucket = "bundle-bucket-named-at-deploy";
const usage = "usage: npm run render -- --stack <name> --out <dir>";

function arg(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (!v || v.startsWith("--")) throw new ConfigError([`${name}: missing; ${usage}`]);
  return v;
}

export function render(argv: string[], cwd = process.cwd()): { files: string[]; bundleNote: string } {
  const stack = arg(argv, "--stack");
  const out = path.resolve(cwd, arg(argv, "--out"));
  const { config, region } = loadStack(stack, cwd);
  const bundlePath = path.resolve(cwd, config.bundlePath);
  const present = fs.existsSync(bundlePath);
  const sha256 = present ? sha256File(bundlePath) : "0".repeat(64);
  const bundleNote = present
    ? `bundle: sha256 of ${config.bundlePath}`
    : `bundle: ${config.bundlePath} absent, placeholder sha256 (run npm run build first for the real one)`;
  const input = hostInputOf(config, {
    region,
    bundleUrl: `s3://${placeholderBucket}/${releaseKey(sha256)}`,
    bundleSha256: sha256,
    ...runtimeWhere(config, placeholderBucket),
  });
  const written: string[] = [];
  for (const f of renderHostFiles(input)) {
    const target = path.join(out, f.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.content, { mode: parseInt(f.mode, 8) });
    written.push(f.path);
  }
  fs.writeFileSync(path.join(out, "user-data.yaml"), renderUserData(input));
  written.push("user-data.yaml");
  return { files: written, bundleNote };
}

if (require.main === module) {
  try {
    const { files, bundleNote } = render(process.argv.slice(2));
    console.log(`${bundleNote}\n${files.map((f) => `wrote ${f}`).join("\n")}`);
  } catch (e) {
    if (e instanceof ConfigError) for (const line of e.errors) console.error(`invalid stack config: ${line}`);
    else if (e instanceof HostInputError) console.error(e.message);
    else console.error(`render failed: ${(e as Error).message}`);
    process.exit(1);
  }
}
