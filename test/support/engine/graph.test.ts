// The release comparison on hand-made graphs: each rule of the engine's step generator it relies on.
import { describe, expect, it } from "vitest";
import { ASSET_SIG, SIG_KEY } from "../wire";
import { Graph, Node, ReleasePolicy, checkRelease, diffGraphs } from "./graph";
import { fakeNode } from "./fakeNode";

const OBJ = "aws:s3/bucketObjectv2:BucketObjectv2";
const urnOf = (type: string, name: string) => `urn:pulumi:prod::p::node-service:bundle:Bundle$${type}::${name}`;

function node(type: string, name: string, inputs: Record<string, unknown>, more: Partial<Node> = {}): Node {
  return fakeNode(type, name, inputs, { urn: urnOf(type, name), parent: "", ...more });
}
const graph = (...nodes: Node[]): Graph => ({ nodes: new Map(nodes.map((n) => [n.urn, n])), outputs: new Map() });
const asset = (hash: string, path = "dist/app/server.js") => ({ [SIG_KEY]: ASSET_SIG, hash, path });
const release = (key: string, more: Partial<Node> = {}) =>
  node(OBJ, "svc-release", { bucket: "b", key: `releases/${key}.js`, source: asset(key) }, more);
const policy: ReleasePolicy = {
  allowed: { [OBJ]: { steps: ["replace"], inputs: ["key", "source"] } },
  allowedOutputs: [],
};

describe("release comparison", () => {
  it("a new key replaces the release object; the retained old one is not deleted", () => {
    const v = checkRelease(
      graph(release("a", { retainOnDelete: true })),
      graph(release("b", { retainOnDelete: true })),
      policy,
    );
    expect(v.changes.map((c) => [c.step, c.forcedBy])).toEqual([["replace", ["key"]]]);
    expect([v.protectedReplacements, v.deletions, v.unexpected]).toEqual([[], [], []]);
  });

  it("the OLD state's retainOnDelete decides: setting it in the same update still deletes the previous object", () => {
    const v = checkRelease(graph(release("a")), graph(release("b", { retainOnDelete: true })), policy);
    expect(v.deletions).toEqual([`replace ${urnOf(OBJ, "svc-release")}`]);
  });

  it("refuses to replace what is protected before and after, and allows unprotect-and-replace in one update", () => {
    expect(
      checkRelease(graph(release("a", { protect: true })), graph(release("b", { protect: true })), policy)
        .protectedReplacements,
    ).toEqual([urnOf(OBJ, "svc-release")]);
    expect(
      checkRelease(graph(release("a", { protect: true })), graph(release("b", { protect: false })), policy)
        .protectedReplacements,
    ).toEqual([]);
  });

  it("compares assets by content: the same bundle from another path changes nothing", () => {
    const moved = node(OBJ, "svc-release", {
      bucket: "b",
      key: "releases/a.js",
      source: asset("a", "/abs/dist/app/server.js"),
    });
    expect(diffGraphs(graph(release("a")), graph(moved)).map((c) => c.step)).toEqual(["same"]);
  });

  it("ignoreChanges hides an input; replaceOnChanges makes an update a replacement", () => {
    const lt = (userData: string, more: Partial<Node> = {}) =>
      node("aws:ec2/launchTemplate:LaunchTemplate", "lt", { userData }, more);
    const opts = (o: Partial<Node["options"]>) => ({ options: { ...lt("").options, ...o } });
    expect(diffGraphs(graph(lt("a")), graph(lt("b"))).map((c) => c.step)).toEqual(["update"]);
    expect(
      diffGraphs(graph(lt("a")), graph(lt("b", opts({ ignoreChanges: ["userData"] })))).map((c) => c.step),
    ).toEqual(["same"]);
    expect(
      diffGraphs(graph(lt("a")), graph(lt("b", opts({ replaceOnChanges: ["userData"] })))).map((c) => c.step),
    ).toEqual(["replace"]);
  });

  it("applies conditional and nested forcing inputs (aws_instance)", () => {
    const i = (inputs: Record<string, unknown>) => node("aws:ec2/instance:Instance", "vm", inputs);
    const steps = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      diffGraphs(graph(i(a)), graph(i(b))).map((c) => c.step);
    expect(steps({ userData: "a" }, { userData: "b" })).toEqual(["update"]);
    expect(
      steps({ userData: "a", userDataReplaceOnChange: true }, { userData: "b", userDataReplaceOnChange: true }),
    ).toEqual(["replace"]);
    expect(steps({ rootBlockDevice: { volumeSize: 8 } }, { rootBlockDevice: { volumeSize: 20 } })).toEqual(["update"]);
    expect(steps({ rootBlockDevice: { encrypted: false } }, { rootBlockDevice: { encrypted: true } })).toEqual([
      "replace",
    ]);
  });

  it("follows aliases, and flags a dropped resource as deleted unless it is retained", () => {
    const old = release("a");
    const renamed = { ...release("a"), urn: urnOf(OBJ, "svc-bundle"), options: { ...old.options, aliases: [old.urn] } };
    expect(diffGraphs(graph(old), graph(renamed)).map((c) => c.step)).toEqual(["same"]);
    expect(checkRelease(graph(old), graph(), policy).deletions).toEqual([`delete ${old.urn}`]);
    expect(checkRelease(graph(release("a", { retainOnDelete: true })), graph(), policy).deletions).toEqual([]);
  });

  it("calls anything beyond the policy unexpected: another type, another input, an option, an output", () => {
    const sg = (description: string) => node("aws:ec2/securityGroup:SecurityGroup", "sg", { description });
    expect(checkRelease(graph(sg("a")), graph(sg("b")), policy).unexpected).toEqual([
      `replace ${urnOf("aws:ec2/securityGroup:SecurityGroup", "sg")} (description)`,
    ]);
    const tagged = node(OBJ, "svc-release", { ...release("b").inputs, tags: { v: "2" } });
    expect(checkRelease(graph(release("a")), graph(tagged), policy).unexpected).toHaveLength(1);
    expect(checkRelease(graph(release("a")), graph(release("a", { protect: true })), policy).unexpected).toEqual([
      `same ${urnOf(OBJ, "svc-release")} options: protect (effective)`,
    ]);
    const before = graph(release("a"));
    const after = graph(release("a"));
    before.outputs.set("urn:stack", { serviceUrl: "http://a" });
    after.outputs.set("urn:stack", { serviceUrl: "http://b" });
    expect(checkRelease(before, after, policy).unexpected).toEqual(["output serviceUrl of urn:stack"]);
  });
});
