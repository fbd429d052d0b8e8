// The components as a Pulumi plugin package for other languages (PulumiPlugin.yaml). `pulumi package add` has
// the Node language host run @pulumi/pulumi's cmd/run-plugin on this folder (pulumi-language-nodejs RunPlugin:
// program directory as the argument, the TypeScript runtime on), then asks the plugin's GetSchema and generates
// the Python or Go SDK from the answer. Here the plugin is started the same way and asked over gRPC; the
// schema must hold every component with every arg of its Args interface and every public output; then the
// stand-in engine (test/support/engine) has the plugin construct components as a Python or Go stack would.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import ts from "typescript";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StandInEngine, protocol } from "./support/engine/standin";

const root = path.resolve(__dirname, "..");
const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const { ResourceProviderClient } = sdk("./proto/provider_grpc_pb.js");
const { ConstructRequest, GetSchemaRequest } = sdk("./proto/provider_pb.js");
/** Component class -> the folder of its index.ts. */
const components: Record<string, string> = {
  Alb: "alb",
  Bundle: "bundle",
  DatadogIntegration: "datadog-integration",
  Fleet: "fleet",
  HaproxyTier: "haproxy-tier",
  Network: "network",
  Observability: "observability",
  Secrets: "secrets",
  ServiceDns: "dns",
};

interface Schema {
  name: string;
  types?: Record<string, unknown>;
  resources: Record<
    string,
    {
      isComponent?: boolean;
      inputProperties?: Record<string, { description?: string }>;
      requiredInputs?: string[];
      properties?: Record<string, { description?: string }>;
    }
  >;
}

let plugin: ChildProcess | undefined;
let schema: Schema;
let stderr = "";
let engine: StandInEngine;
let client: any;

/** Declarations of components/, parsed (syntax only) from every non-test source file. */
function declarations(): ts.SourceFile[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) files.push(p);
    }
  };
  walk(path.join(root, "components"));
  return files.map((f) => ts.createSourceFile(f, fs.readFileSync(f, "utf8"), ts.ScriptTarget.ES2022, true));
}

const memberName = (m: ts.ClassElement | ts.TypeElement) => (m.name && ts.isIdentifier(m.name) ? m.name.text : "");

/** Property names of interface `name` in `sources`. */
function interfaceProps(sources: ts.SourceFile[], name: string): string[] {
  for (const s of sources)
    for (const st of s.statements)
      if (ts.isInterfaceDeclaration(st) && st.name.text === name) {
        expect(st.heritageClauses, `${name} extends nothing the analyzer would have to follow`).toBeUndefined();
        return st.members.filter(ts.isPropertySignature).map(memberName).sort();
      }
  throw new Error(`interface ${name} not found`);
}

/** Public readonly properties of class `name`, and the type token its super() call registers. */
function classInfo(sources: ts.SourceFile[], name: string): { outputs: string[]; token: string } {
  for (const s of sources)
    for (const st of s.statements)
      if (ts.isClassDeclaration(st) && st.name?.text === name) {
        const outputs = st.members
          .filter(
            (m): m is ts.PropertyDeclaration =>
              ts.isPropertyDeclaration(m) &&
              !!m.modifiers?.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword) &&
              !m.modifiers?.some(
                (x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.StaticKeyword,
              ),
          )
          .map(memberName)
          .sort();
        const token = /super\(typeToken\("(\w+)"\)/.exec(st.getText())?.[1];
        return { outputs, token: `node-service-aws:index:${token}` };
      }
  throw new Error(`class ${name} not found`);
}

beforeAll(async () => {
  // As RunPlugin starts it: `node <run-plugin> <program directory>`, in the directory `pulumi` runs in.
  const runPlugin = createRequire(path.join(root, "index.js")).resolve("@pulumi/pulumi/cmd/run-plugin");
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
  // The stand-in engine is the monitor and engine of the Construct calls below, as for a Python stack's `pulumi up`.
  engine = await StandInEngine.start({ stack: "dev", project: "orders-py", dryRun: false, programDir: root });
  const child = spawn(process.execPath, [runPlugin, root, engine.address], {
    cwd: root,
    env: { ...inherited, PULUMI_NODEJS_TYPESCRIPT: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  plugin = child;
  child.stderr.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the plugin printed no port in 240 s:\n${stderr}`)), 240_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the plugin exited (${code}) before serving:\n${stderr}`));
    });
  });
  client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const text = await new Promise<string>((resolve, reject) =>
    client.getSchema(new GetSchemaRequest(), (err: Error | null, res: { getSchema(): string }) =>
      err ? reject(err) : resolve(res.getSchema()),
    ),
  );
  schema = JSON.parse(text);
}, 300_000);

/** A Construct call as the engine makes it for another language's `new Component(name, inputs)`. */
function construct(type: string, name: string, inputs: Record<string, unknown>): Promise<{ urn: string; state: any }> {
  const req = new ConstructRequest();
  req.setProject("orders-py");
  req.setStack("dev");
  req.setOrganization("organization");
  req.setDryrun(false);
  req.setParallel(8);
  req.setMonitorendpoint(engine.address);
  req.setType(type);
  req.setName(name);
  req.setInputs(protocol.Struct.fromJavaScript(inputs));
  req.setAcceptsOutputValues(true);
  return new Promise((resolve, reject) =>
    client.construct(req, (err: Error | null, res: any) =>
      err ? reject(err) : resolve({ urn: res.getUrn(), state: res.getState()?.toJavaScript() ?? {} }),
    ),
  );
}

afterAll(async () => {
  client?.close();
  await engine?.stop();
  const child = plugin;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
});

describe("the plugin package (PulumiPlugin.yaml + index.ts)", () => {
  it("declares the Node.js runtime, and the analyzer finds index.ts as the entry", () => {
    const manifest = parseYaml(fs.readFileSync(path.join(root, "PulumiPlugin.yaml"), "utf8")) as { runtime: unknown };
    expect(manifest.runtime).toBe("nodejs");
    // The runtime requires the folder: with no "main", Node loads index.ts through the TypeScript runtime.
    const project = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(project.main).toBeUndefined();
    expect(fs.existsSync(path.join(root, "index.ts"))).toBe(true);
  });

  it("serves a schema named after the package with every component, and no other resource", () => {
    expect(schema.name).toBe("node-service-aws");
    expect(Object.keys(schema.resources).sort()).toEqual(
      Object.keys(components)
        .map((c) => `node-service-aws:index:${c}`)
        .sort(),
    );
    for (const r of Object.values(schema.resources)) {
      expect(r.isComponent).toBe(true);
      expect(r.requiredInputs?.filter((k) => !(k in (r.inputProperties ?? {})))).toEqual([]);
    }
    // Every type an arg refers to (ServiceSettings, ...) is defined in the schema: the SDK generators bind each ref.
    const refs = [...JSON.stringify(schema).matchAll(/"\$ref":"#\/types\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toContain("node-service-aws:index:ServiceSettings");
    expect(refs.filter((r) => !(r in (schema.types ?? {})))).toEqual([]);
  });

  const sources = declarations();
  it.each(Object.keys(components))(
    "%s: every arg of its Args interface is an input, every public property an output, under the token it registers",
    (name) => {
      const r = schema.resources[`node-service-aws:index:${name}`]!;
      expect(Object.keys(r.inputProperties ?? {}).sort()).toEqual(interfaceProps(sources, `${name}Args`));
      const { outputs, token } = classInfo(sources, name);
      expect(Object.keys(r.properties ?? {}).sort()).toEqual(outputs);
      // construct() is asked for the schema's token; the class must register under the same one.
      expect(token).toBe(`node-service-aws:index:${name}`);
      for (const [k, p] of Object.entries({ ...r.inputProperties, ...r.properties }))
        expect(p.description, `${name}.${k}`).toMatch(/\w{3}/);
    },
  );
});

describe("a component constructed through the plugin, as a Python or Go stack constructs it", () => {
  it("Network: registered under the schema's token with its children, its outputs in the answer", async () => {
    const { urn, state } = await construct("node-service-aws:index:Network", "orders", {
      cidrBlock: "10.42.0.0/16",
      azCount: 2,
    });
    expect(urn).toBe("urn:pulumi:dev::orders-py::node-service-aws:index:Network::orders");
    const children = [...engine.graph.nodes.values()].filter((n) => n.parent === urn);
    expect(children.map((n) => n.type)).toContain("aws:ec2/vpc:Vpc");
    const vpc = children.find((n) => n.type === "aws:ec2/vpc:Vpc")!;
    expect(vpc.inputs.cidrBlock).toBe("10.42.0.0/16");
    expect(Object.keys(state).sort()).toEqual(
      Object.keys(schema.resources["node-service-aws:index:Network"]!.properties!).sort(),
    );
    expect(JSON.stringify(state.vpcId)).toContain(vpc.id);
    expect(engine.errors).toEqual([]);
  });

  it("Bundle: an absolute bundlePath is read; a relative one resolves against the plugin process's working directory, not the stack's folder", async () => {
    const file = path.join(root, "examples/internal-api/service/server.js");
    const { urn } = await construct("node-service-aws:index:Bundle", "orders", { bundlePath: file });
    const object = [...engine.graph.nodes.values()].find(
      (n) => n.parent === urn && n.type === "aws:s3/bucketObjectv2:BucketObjectv2",
    );
    expect(object?.inputs.source).toMatchObject({ path: file });
    // No project folder reaches a constructed component (ConstructRequest has none): the README says so.
    await expect(
      construct("node-service-aws:index:Bundle", "relative", { bundlePath: "service/server.js" }),
    ).rejects.toThrow(path.join(root, "service/server.js"));
  });
});
