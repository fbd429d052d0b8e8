// The pure half of the synthesis: a finished run's graph (built here the way the stand-in engine records one)
// turned into files: secrets, user-data, shared user-data, assets, a leak; and the folder handling.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { Node } from "../../test/support/engine/graph";
import { RunResult } from "../../test/support/engine/launch";
import { ASSET_SIG, SECRET_SIG, SIG_KEY, UNKNOWN } from "../../test/support/wire";
import { main as synth } from "../synth";
import { main as diff } from "../synth-diff";
import { readSynth, writeSynth } from "./files";
import { decodeUserData, hostFiles } from "./hosts";
import { SynthResource } from "./model";
import { filesOf } from "./synthesize";
import { fakeNode } from "../../test/support/engine/fakeNode";

const root = "/checkout/of/project";
const marker = "SECRET-MARKER-datadogApiKey-7f3c9a";
const stackUrn = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev";
const secret = (value: string) => ({ [SIG_KEY]: SECRET_SIG, value });
const cloudConfig = (unit: string) =>
  `#cloud-config\n# rendered by a test\nwrite_files:\n  - path: /etc/systemd/system/a.service\n    owner: root:root\n    permissions: "0644"\n    content: |\n${unit
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n")}\nruncmd:\n  - [/usr/local/sbin/boot]\n`;

function node(type: string, name: string, inputs: Record<string, unknown>, more: Partial<Node> = {}): Node {
  return fakeNode(type, name, inputs, { urn: `urn:pulumi:dev::p::${type}::${name}`, parent: stackUrn, ...more });
}

function fakeRun(nodes: Node[]): RunResult {
  const all = [node("pulumi:pulumi:Stack", "p-dev", {}, { urn: stackUrn, parent: "", custom: false }), ...nodes];
  return {
    engine: { graph: { nodes: new Map(all.map((n) => [n.urn, n])), outputs: new Map() }, rootUrn: stackUrn },
    argv: ["run", "--project", "p", "--stack", "dev", "."],
    config: { config: { "p:datadogApiKey": marker, "p:port": "3000" }, secretKeys: ["p:datadogApiKey"] },
    markers: [marker],
  } as unknown as RunResult;
}

const resourcesOf = (files: Map<string, string>) =>
  (JSON.parse(files.get("resources.json")!) as SynthResource[]).filter((r) => r.type !== "pulumi:pulumi:Stack");

describe("filesOf", () => {
  it("masks secrets, writes assets by project-relative path and hash, names unknowns", () => {
    const files = filesOf(
      fakeRun([
        node("aws:ssm/parameter:Parameter", "key", { value: secret(marker), name: "/p/dev/key" }),
        node("aws:s3/bucketObjectv2:BucketObjectv2", "obj", {
          source: { [SIG_KEY]: ASSET_SIG, path: `${root}/dist/app/server.js`, hash: "ab".repeat(32) },
          etag: UNKNOWN,
        }),
      ]),
      root,
    );
    const [obj, key] = resourcesOf(files); // sorted by URN
    expect(key!.inputs).toEqual({ value: "[secret]", name: "/p/dev/key" });
    expect(obj!.inputs).toEqual({
      source: { asset: "dist/app/server.js", sha256: "ab".repeat(32) },
      etag: "[unknown]",
    });
    expect(JSON.parse(files.get("config.json")!)).toEqual({ "p:datadogApiKey": "[secret]", "p:port": "3000" });
    expect([...files.keys()]).toEqual(["config.json", "outputs.json", "resources.json", "synth.json"]);
  });

  it("refuses a secret value in clear text, naming the file", () => {
    const run = fakeRun([node("aws:ec2/instance:Instance", "host", { tags: { leaked: marker } })]);
    expect(() => filesOf(run, root)).toThrow(
      `a secret config value is in clear text in the desired state:\n  resources.json: ${marker}`,
    );
  });

  it("refuses the checkout's own path, which would differ between base and head", () => {
    const run = fakeRun([node("aws:ec2/instance:Instance", "host", { note: `${root}/somewhere` })]);
    expect(() => filesOf(run, root)).toThrow(`the project's local path ${root} is in: resources.json`);
  });

  it("writes one user-data shared by several hosts once, naming every host, and points each input at it", () => {
    const text = cloudConfig("[Service]\nExecStart=/bin/true\n");
    const b64 = gzipSync(text).toString("base64");
    const files = filesOf(
      fakeRun([
        node("aws:ec2/instance:Instance", "host-1", { userDataBase64: b64 }),
        node("aws:ec2/instance:Instance", "host-0", { userDataBase64: b64 }),
        node("aws:ec2/instance:Instance", "plain", { userData: "#!/bin/sh\necho hi\n" }),
        node("aws:ec2/launchTemplate:LaunchTemplate", "lt", { userData: Buffer.from(text).toString("base64") }),
      ]),
      root,
    );
    const hosts = [...files.keys()].filter((p) => p.startsWith("hosts/"));
    // host-0 sorts first by URN; the launch template's user-data is the same text, so it shares the folder.
    expect(hosts).toEqual([
      "hosts/host-0/cloud-config.yaml",
      "hosts/host-0/etc/systemd/system/a.service",
      "hosts/plain/user-data",
    ]);
    expect(files.get("hosts/host-0/etc/systemd/system/a.service")).toBe("[Service]\nExecStart=/bin/true\n");
    const skeleton = files.get("hosts/host-0/cloud-config.yaml")!;
    for (const n of ["host-0", "host-1", "lt"]) expect(skeleton).toContain(`::${n}\n`);
    expect(skeleton).toContain("# rendered by a test\n");
    expect(skeleton).toMatch(/content: sha256:[0-9a-f]{64}\n/);
    const byName = Object.fromEntries(resourcesOf(files).map((r) => [r.name, r.inputs]));
    expect(byName["host-1"]!.userDataBase64).toBe(byName["host-0"]!.userDataBase64);
    expect(byName["lt"]!.userData).toMatch(/^\[user-data: hosts\/host-0\/, sha256 [0-9a-f]{64}\]$/);
    expect(byName["plain"]!.userData).toMatch(/^\[user-data: hosts\/plain\/, sha256/);
  });

  it("keeps dependsOn apart from the dependencies inputs carry, and the inherited protect", () => {
    const dep = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b";
    const explicit = "urn:pulumi:dev::p::aws:s3/bucketVersioning:BucketVersioning::v";
    const n = node("aws:s3/bucketObjectv2:BucketObjectv2", "o", { bucket: "b-id" }, { protect: true });
    n.options = {
      ...n.options,
      dependencies: [explicit, dep],
      propertyDependencies: { bucket: [dep], key: [] },
      customTimeouts: { create: "5m" },
    };
    const [r] = resourcesOf(filesOf(fakeRun([n]), root));
    expect(r).toMatchObject({
      protect: true,
      options: { dependsOn: [explicit], customTimeouts: { create: "5m" } },
      inputDependencies: { bucket: [dep] },
    });
    expect(r!.options.protect).toBeUndefined();
  });
});

describe("host files", () => {
  it("decodes base64, gzipped or not, and leaves text alone", () => {
    expect(decodeUserData(gzipSync("#cloud-config\n").toString("base64"), "base64")).toBe("#cloud-config\n");
    expect(decodeUserData(Buffer.from("#!/bin/sh\n").toString("base64"), "base64")).toBe("#!/bin/sh\n");
    expect(decodeUserData("#cloud-config\n", "text")).toBe("#cloud-config\n");
  });

  it("writes cloud-init's encoded contents decoded, and refuses a relative path", () => {
    const content = gzipSync("hello\n").toString("base64");
    const doc = `#cloud-config\nwrite_files:\n  - path: /etc/x\n    encoding: gz+b64\n    content: ${content}\n`;
    expect(hostFiles(doc, "hosts/h", ["u"]).get("hosts/h/etc/x")).toBe("hello\n");
    expect(() => hostFiles("#cloud-config\nwrite_files:\n  - path: etc/x\n", "hosts/h", ["u"])).toThrow(
      'hosts/h: a write_files entry has no absolute path ("etc/x")',
    );
  });
});

describe("the synthesized folder", () => {
  const temps: string[] = [];
  afterEach(() => {
    while (temps.length) fs.rmSync(temps.pop()!, { recursive: true, force: true });
  });
  const temp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "synth-folder-"));
    temps.push(d);
    return d;
  };

  it("replaces a previous synthesis whole and reads back what it wrote", () => {
    const out = path.join(temp(), "state");
    writeSynth(
      new Map([
        ["synth.json", "{}\n"],
        ["hosts/h/stale", "old\n"],
      ]),
      out,
    );
    const files = new Map([
      ["synth.json", "{}\n"],
      ["hosts/h/etc/x", "new\n"],
    ]);
    writeSynth(files, out);
    expect(readSynth(out)).toEqual(
      new Map([
        ["hosts/h/etc/x", "new\n"],
        ["synth.json", "{}\n"],
      ]),
    );
  });

  it("refuses to write into a folder that holds something else, and to read one that is not a synthesis", () => {
    const dir = temp();
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    expect(() => writeSynth(new Map([["synth.json", "{}"]]), dir)).toThrow("the folder has other content");
    expect(fs.readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("mine");
    expect(() => readSynth(dir)).toThrow(`${dir}: not a synthesized state (no synth.json)`);
  });
});

describe("the command lines", () => {
  it("name what is wrong in their arguments", async () => {
    const root = path.resolve(__dirname, "..", "..");
    await expect(synth(["--out", "/tmp/x"], root)).rejects.toThrow(
      "--stack: missing; usage: npm run synth -- --stack <name> --out <dir> [--root <project dir>]",
    );
    await expect(synth(["--stack", "staging", "--out", "/tmp/x"], root)).rejects.toThrow(
      `--stack staging: no Pulumi.staging.yaml in ${root}`,
    );
    await expect(synth(["--stack", "../etc", "--out", "/tmp/x"], root)).rejects.toThrow("--stack ../etc: no Pulumi");
    expect(() => diff(["only-one"])).toThrow("two synthesized folders expected, got 1");
    expect(() => diff(["a", "b", "--max-chars", "ten"])).toThrow(
      "--max-chars ten: an integer of at least 1000 expected",
    );
    expect(() => diff(["a", "b", "--color"])).toThrow("unknown option --color");
  });
});
