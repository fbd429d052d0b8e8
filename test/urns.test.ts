// Users' stacks already exist: every resource the stack held at the recorded commit (test/fixtures/urns.json,
// written by test/support/record-urns.ts under the same mocks) must still be there under its URN or
// under an alias, for dev and prod in both flavors. A URN that vanishes is a delete and a create.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStack } from "../infra/stack";
import { stackFileConfig, tempBundle } from "./support/stack-config";
import { engineUrn, recordUrns } from "./support/urns";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns.json"), "utf8")) as Record<string, string[]>;
const recorded = Object.fromEntries(Object.entries(fixture).map(([k, urns]) => [k, urns.map(engineUrn)]));
const bundle = tempBundle("console.log('urns')\n");
afterAll(() => bundle.dispose());

describe.each(Object.keys(recorded))("%s", (key) => {
  it("keeps every recorded URN, as itself or as an alias", async () => {
    const [stack, loadBalancer] = key.split("/") as [string, string];
    const { config, secretKeys } = stackFileConfig(stack, { loadBalancer });
    const now = await recordUrns(() => ({ ...createStack({ bundlePath: bundle.file }) }), { config, secretKeys, stack });
    const answered = new Set(now.flatMap((r) => [r.urn, ...r.aliases]));
    const lost = recorded[key]!.filter((urn) => !answered.has(urn));
    expect(lost, `URNs with neither a resource nor an alias: ${lost.length}`).toEqual([]);
    // and nothing answers to two old URNs at once (an alias that catches the wrong resource)
    const claims = now.flatMap((r) => [r.urn, ...r.aliases].filter((u) => recorded[key]!.includes(u)).slice(1));
    expect(claims).toEqual([]);
  });
});
