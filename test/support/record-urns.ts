// Writes test/fixtures/urns.json: the URNs of dev and prod in both flavors at this commit.
// Run with ts-node before a change that moves components; urns.test.ts then checks every one survives.
import * as fs from "node:fs";
import * as path from "node:path";
import { stackFileConfig, tempBundle } from "./stack-config";
import { createStack } from "../../infra/stack";
import { recordUrns } from "./urns";

(async () => {
  const out: Record<string, string[]> = {};
  const bundle = tempBundle("console.log('urns')\n");
  for (const stack of ["dev", "prod"]) {
    for (const loadBalancer of ["alb", "haproxy"]) {
      const { config, secretKeys } = stackFileConfig(stack, { loadBalancer });
      const records = await recordUrns(() => ({ ...createStack({ bundlePath: bundle.file }) }), {
        config,
        secretKeys,
        stack,
      });
      out[`${stack}/${loadBalancer}`] = records.map((r) => r.urn);
    }
  }
  bundle.dispose();
  fs.writeFileSync(path.join(__dirname, "..", "fixtures", "urns.json"), JSON.stringify(out, null, 1) + "\n");
})();
