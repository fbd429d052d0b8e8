// `pulumi up` as checked in: the Pulumi Node runtime's own TypeScript lookup (tsutils) must find the project's
// pinned typescript and ts-node, and `main: infra/` must load infra/index.ts through ts-node registered the way the
// runtime registers it (cmd/run/run.js: project tsconfig.json over nodenext defaults). The program then runs
// under the mocks with the dev stack's config and must register its resources and export the stack outputs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { root, stackFileConfig, tempBundle } from "./testkit";

const disposers: (() => void)[] = [];
afterEach(() => {
  while (disposers.length) disposers.pop()!();
});

it("the Pulumi runtime's TypeScript path loads main: infra/ with the pinned ts-node and typescript", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
  const bundle = tempBundle("console.log('entry test')\n");
  disposers.push(bundle.dispose);
  const { config, secretKeys } = stackFileConfig("dev", { bundlePath: bundle.file });
  const child = `
    const path = require("path");
    const tsutils = require("@pulumi/pulumi/tsutils");
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const ts = require(typescriptRequire);
    const tsn = require(tsnodeRequire);
    tsn.register({
      compiler: typescriptRequire, transpileOnly: true, project: "tsconfig.json", skipProject: false,
      compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...tsutils.loadTypeScriptCompilerOptions("tsconfig.json") },
    });
    const mocks = require("./test/support/pulumi-mocks");
    (async () => {
      const rec = await mocks.setupMocks({ config: JSON.parse(process.env.CFG), secretKeys: JSON.parse(process.env.SECRET_KEYS), stack: "dev" });
      const program = require(path.join(process.cwd(), process.env.MAIN));
      const outputs = {};
      for (const [k, v] of Object.entries(program)) outputs[k] = await mocks.valueOf(v);
      await mocks.settle();
      console.log(JSON.stringify({ typescript: ts.version, tsnode: tsn.VERSION, tsnodeRequire, typescriptRequire, resources: rec.resources.length, outputs }));
    })().catch((e) => { console.error(e.message); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ["-e", child], {
    cwd: root, encoding: "utf8", timeout: 120_000,
    env: { ...process.env, CFG: JSON.stringify(config), SECRET_KEYS: JSON.stringify(secretKeys), MAIN: project.main },
  });
  expect(r.status, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
  expect(result.typescript).toBe(pkg.devDependencies.typescript);
  expect(result.tsnode).toBe(pkg.devDependencies["ts-node"]);
  expect([result.tsnodeRequire, result.typescriptRequire]).toEqual(["ts-node", "typescript"]); // not the runtime's vendored 7.0.1 / 3.8.3
  expect(result.resources).toBeGreaterThan(50);
  expect(Object.keys(result.outputs).sort()).toEqual(["autoScalingGroupName", "bundleUrl", "dashboardUrl", "imageId", "loadBalancerDnsName", "logSearchUrl", "serviceUrl", "serviceUrlNote"]);
  expect(result.outputs.serviceUrl).toMatch(/^http:\/\/.+\.elb\.amazonaws\.com$/);
  expect(result.outputs.serviceUrlNote).toMatch(/^no domainName: /);
});
