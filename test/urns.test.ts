// Users' stacks already exist: every resource the stack held at the recorded commit (test/fixtures/urns.json,
// written by test/support/record-urns.ts under the same mocks) must still be there under its URN or
// under an alias, for dev and prod in both flavors. A URN that vanishes is a delete and a create.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStack } from "../infra/stack";
import { stackFileConfig } from "../infra/testkit";
import { engineUrn, recordUrns, scratchBundle } from "./support/urns";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns.json"), "utf8")) as Record<string, string[]>;
const recorded = Object.fromEntries(Object.entries(fixture).map(([k, urns]) => [k, urns.map(engineUrn)]));
const bundle = scratchBundle();

/**
 * Resources removed on purpose: on users' next `pulumi up` each is deleted, not lost by a rename. Matched by
 * the URN's own type and name (`<type>::<name>`, the same in every stack and flavor that had it), each with why.
 */
const removedOnPurpose: Record<string, string> = {
  // The AmazonSSMManagedInstanceCore attachments of the three instance roles: that managed policy allows
  // ssm:GetParameter(s) on "*" (security review F1); each role now holds the SSM agent's own inline policy,
  // created (Pulumi creates before it deletes) before the attachment is detached.
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment::sample-api-ssm-core": "fleet role: managed SSM policy replaced by sample-api-ssm-agent",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment::sample-api-hosts-ssm-core": "HAProxy flavor's service hosts: replaced by sample-api-hosts-ssm-agent",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment::sample-api-node-ssm": "HAProxy nodes: replaced by sample-api-node-ssm-agent",
  // HAProxy flavor: port 80 to anywhere (apt over HTTP) is no longer opened; apt reads its sources over HTTPS (F9).
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::sample-api-node-apt": "HAProxy nodes: no HTTP egress",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::sample-api-fleet-apt": "HAProxy flavor's service hosts: no HTTP egress",
};
const ownTypeAndName = (urn: string) => {
  const [, , qualifiedType, name] = urn.split("::");
  return `${qualifiedType!.split("$").pop()}::${name}`;
};
afterAll(() => bundle.dispose());

describe.each(Object.keys(recorded))("%s", (key) => {
  it("keeps every recorded URN, as itself or as an alias", async () => {
    const [stack, loadBalancer] = key.split("/") as [string, string];
    const { config, secretKeys } = stackFileConfig(stack, { loadBalancer });
    const now = await recordUrns(() => ({ ...createStack({ bundlePath: bundle.file }) }), { config, secretKeys, stack });
    const answered = new Set(now.flatMap((r) => [r.urn, ...r.aliases]));
    const gone = recorded[key]!.filter((urn) => !answered.has(urn));
    const lost = gone.filter((urn) => !Object.hasOwn(removedOnPurpose, ownTypeAndName(urn)));
    expect(lost, `URNs with neither a resource nor an alias: ${lost.length}`).toEqual([]);
    // and what the list says was removed is really gone (it must not hide a resource that still exists)
    for (const urn of recorded[key]!.filter((u) => Object.hasOwn(removedOnPurpose, ownTypeAndName(u)))) expect(gone).toContain(urn);
    // and nothing answers to two old URNs at once (an alias that catches the wrong resource)
    const claims = now.flatMap((r) => [r.urn, ...r.aliases].filter((u) => recorded[key]!.includes(u)).slice(1));
    expect(claims).toEqual([]);
  });
});
