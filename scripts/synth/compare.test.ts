// The comparison and its summary over small hand-made states: the cases a config change of dev rarely shows
// (protected replacements and deletions, retained resources, aliases, ignoreChanges, a type with no replacement
// rule, dev against prod), and the Markdown's escaping and file diffs.
import { describe, expect, it } from "vitest";
import { compareStates, leafChanges } from "./compare";
import { SynthFiles, SynthResource, canonicalJson } from "./model";
import { code, summarize, unifiedDiff } from "./summary";

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::p::${type}::${name}`;
const BUCKET = "aws:s3/bucket:Bucket";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const ASG = "aws:autoscaling/group:Group";

function res(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  more: Partial<SynthResource> = {},
  stack = "dev",
) {
  return {
    urn: urn(stack, type, name),
    type,
    name,
    parent: "",
    custom: true,
    protect: false,
    retainOnDelete: false,
    options: {},
    inputs,
    ...more,
  } as SynthResource;
}

function state(resources: SynthResource[], files: Record<string, string> = {}, stack = "dev", config = {}): SynthFiles {
  return new Map([
    ["synth.json", canonicalJson({ project: "p", stack, note: "" })],
    ["config.json", canonicalJson(config)],
    ["outputs.json", canonicalJson({})],
    ["resources.json", canonicalJson(resources)],
    ...Object.entries(files),
  ]);
}

describe("compareStates", () => {
  it("replaces when a forcing input changes, and warns when the resource is protected", () => {
    const before = state([res(BUCKET, "logs", { bucket: "a", tags: { x: "1" } }, { protect: true })]);
    const after = state([res(BUCKET, "logs", { bucket: "b", tags: { x: "1" } }, { protect: true })]);
    const [c] = compareStates(before, after).resources;
    expect(c).toMatchObject({
      step: "replace",
      inputs: ["bucket"],
      forcedBy: ["bucket"],
      details: ['bucket: "a" → "b"'],
    });
    expect(c!.warnings).toEqual(["protected: `pulumi up` refuses to replace it"]);
    expect(summarize(compareStates(before, after))).toContain(
      "> ⚠️ replace `urn:pulumi:dev::p::aws:s3/bucket:Bucket::logs`: protected: `pulumi up` refuses to replace it",
    );
  });

  it("updates when only other inputs change, and leaves ignoreChanges inputs out", () => {
    const opts = { options: { ignoreChanges: ["desiredCapacity"] } };
    const before = state([res(ASG, "asg", { desiredCapacity: 1, maxSize: 2 }, opts)]);
    const after = state([res(ASG, "asg", { desiredCapacity: 5, maxSize: 4 }, opts)]);
    const [c] = compareStates(before, after).resources;
    expect(c).toMatchObject({ step: "update", inputs: ["maxSize"], forcedBy: [], details: ["maxSize: 2 → 4"] });
    const none = compareStates(before, state([res(ASG, "asg", { desiredCapacity: 5, maxSize: 2 }, opts)]));
    expect([none.resources, none.unchanged]).toEqual([[], 1]);
  });

  it("matches a renamed resource through its alias, and flags a move of parent", () => {
    const before = state([res(SG, "old", { description: "d" })]);
    const renamed = res(
      SG,
      "new",
      { description: "d" },
      { options: { aliases: [urn("dev", SG, "old")] }, parent: urn("dev", "x:y:Z", "c") },
    );
    const d = compareStates(before, state([renamed]));
    expect(d.resources.map((c) => [c.step, c.name, c.options])).toEqual([["options", "new", ["aliases", "parent"]]]);
  });

  it("says what a removal does to protected and retained resources", () => {
    const before = state([
      res(BUCKET, "kept", { bucket: "k" }, { protect: true }),
      res(BUCKET, "retained", { bucket: "r" }, { retainOnDelete: true }),
      res(BUCKET, "gone", { bucket: "g" }),
    ]);
    const d = compareStates(before, state([]));
    expect(d.resources.map((c) => [c.step, c.name, c.warnings])).toEqual([
      ["delete", "kept", ["protected: `pulumi up` refuses to delete it"]],
      ["delete", "retained", ["retained: left in AWS, only dropped from the state"]],
      ["delete", "gone", []],
    ]);
  });

  it("warns on a type with no replacement rule instead of guessing", () => {
    const t = "aws:newservice/thing:Thing";
    const d = compareStates(state([res(t, "x", { a: 1 })]), state([res(t, "x", { a: 2 })]));
    expect(d.resources[0]).toMatchObject({ step: "update" });
    expect(d.resources[0]!.warnings[0]).toMatch(
      /^no replacement rule for this type in test\/support\/engine\/replacement\.ts/,
    );
  });

  it("compares dev with prod by URN without the stack, and lists config and files that differ", () => {
    const before = state([res(SG, "sg", { description: "d" })], { "hosts/h/etc/a": "x\n" }, "dev", { "p:env": "dev" });
    const after = state(
      [res(SG, "sg", { description: "d" }, {}, "prod")],
      { "hosts/h/etc/a": "y\n", "hosts/h/etc/b": "new\n" },
      "prod",
      { "p:env": "prod" },
    );
    const d = compareStates(before, after);
    expect([d.stacks, d.resources, d.unchanged]).toEqual([["dev", "prod"], [], 1]);
    expect(d.config).toEqual([["p:env", "dev", "prod"]]);
    expect(d.files.map(([p, a, b]) => [p, a, b])).toEqual([
      ["hosts/h/etc/a", "x\n", "y\n"],
      ["hosts/h/etc/b", undefined, "new\n"],
    ]);
    const text = summarize(d);
    expect(text).toContain("### Desired state: `dev` → `prod`");
    expect(text).toContain("<details><summary><code>hosts/h/etc/b</code> (added)</summary>");
    expect(text).toContain("--- /dev/null\n+++ b/hosts/h/etc/b\n@@ -0,0 +1,1 @@\n+new\n");
  });
});

describe("the summary's pieces", () => {
  it("shows nested changes by path, arrays of another length whole", () => {
    expect(leafChanges({ a: { b: 1, c: [1, 2] } }, { a: { b: 2, c: [1, 3] } }, "x")).toEqual([
      "x.a.b: 1 → 2",
      "x.a.c[1]: 2 → 3",
    ]);
    expect(leafChanges([1], [1, 2], "list")).toEqual(["list: [1] → [1,2]"]);
    expect(leafChanges(undefined, "v", "k")).toEqual(['k: (none) → "v"']);
  });

  it("keeps code spans intact around backticks", () => {
    expect(code("a`b")).toBe("`` a`b ``");
    expect(code("plain")).toBe("`plain`");
  });

  it("writes unified diffs like git's", () => {
    expect(unifiedDiff("f", "a\nb\nc\n", "a\nB\nc\n")).toBe("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect(unifiedDiff("f", "gone\n", undefined)).toBe("--- a/f\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-gone\n");
  });
});
