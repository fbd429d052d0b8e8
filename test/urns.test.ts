// Users' stacks already exist: every resource the stack held at the recorded commit (test/fixtures/urns.json,
// written by test/support/record-urns.ts under the same mocks) must still be there under its URN or
// under an alias, for dev and prod in both flavors. A URN that vanishes is a delete and a create.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStack } from "../infra/stack";
import { stackFileConfig, tempBundle } from "./support/stack-config";
import { engineUrn, recordUrns } from "./support/urns";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns.json"), "utf8")) as Record<
  string,
  string[]
>;
// Resources deleted on purpose, each with why its deletion is safe: the only URNs allowed to go.
const retired = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "retired-urns.json"), "utf8")) as {
  urn: string;
  why: string;
}[];
const retiredUrns = new Set(retired.map((r) => r.urn));
const recorded = Object.fromEntries(
  Object.entries(fixture).map(([k, urns]) => [k, urns.map(engineUrn).filter((u) => !retiredUrns.has(u))]),
);
const bundle = tempBundle("console.log('urns')\n");
afterAll(() => bundle.dispose());

describe.each(Object.keys(recorded))("%s", (key) => {
  it("keeps every recorded URN, as itself or as an alias", async () => {
    const [stack, loadBalancer] = key.split("/") as [string, string];
    const { config, secretKeys } = stackFileConfig(stack, { loadBalancer });
    const now = await recordUrns(() => ({ ...createStack({ bundlePath: bundle.file }) }), {
      config,
      secretKeys,
      stack,
    });
    const answered = new Set(now.flatMap((r) => [r.urn, ...r.aliases]));
    const lost = recorded[key]!.filter((urn) => !answered.has(urn));
    expect(lost, `URNs with neither a resource nor an alias: ${lost.length}`).toEqual([]);
    // and nothing answers to two old URNs at once (an alias that catches the wrong resource)
    const claims = now.flatMap((r) => [r.urn, ...r.aliases].filter((u) => recorded[key]!.includes(u)).slice(1));
    expect(claims).toEqual([]);
    // and a retired URN is truly gone (else it should not be on the list)
    expect(now.filter((r) => [r.urn, ...r.aliases].some((u) => retiredUrns.has(u))).map((r) => r.urn)).toEqual([]);
  });
});

it("every retired URN was recorded and says why its deletion is safe", () => {
  const all = new Set(Object.values(fixture).flat().map(engineUrn));
  for (const r of retired) {
    expect(all.has(r.urn), r.urn).toBe(true);
    expect(r.why.length, r.urn).toBeGreaterThan(40);
  }
});
