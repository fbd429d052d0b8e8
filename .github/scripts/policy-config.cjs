// `node .github/scripts/policy-config.cjs <stack> <out.json>`: the policy pack's config for a stack, for
// `--policy-pack-config`. Each policy whose config has `env` (the prod-only rules, policy/pack/common.ts) gets
// the stack's env from Pulumi.<stack>.yaml; without it they assume prod.
require("ts-node/register/transpile-only");
const fs = require("node:fs");
const path = require("node:path");
const { parse } = require("yaml");

const [stack, out] = process.argv.slice(2);
if (!stack || !out) {
  console.error("usage: node .github/scripts/policy-config.cjs <stack> <out.json>");
  process.exit(1);
}
const root = path.resolve(__dirname, "..", "..");
const { name } = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
const env = parse(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8"))?.config?.[`${name}:env`];
if (typeof env !== "string" || !env) {
  console.error(`Pulumi.${stack}.yaml has no ${name}:env`);
  process.exit(1);
}
const { policies } = require(path.join(root, "policy", "pack"));
const config = Object.fromEntries(
  policies.filter((p) => p.configSchema?.properties?.env).map((p) => [p.name, { env }]),
);
fs.writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`);
console.log(`${Object.keys(config).length} policies configured with env ${env} -> ${out}`);
