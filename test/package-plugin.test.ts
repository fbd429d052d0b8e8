// The components as a Pulumi plugin package for other languages (PulumiPlugin.yaml). `pulumi package add` has
// the Node language host run @pulumi/pulumi's cmd/run-plugin on this folder (pulumi-language-nodejs RunPlugin:
// program directory as the argument, the TypeScript runtime on), then asks the plugin's GetSchema and generates
// the Python or Go SDK from the answer. Here the plugin is started the same way and asked over gRPC; the
// schema must hold every component with every arg of its Args interface and every public output.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import ts from "typescript";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const { ResourceProviderClient } = sdk("./proto/provider_grpc_pb.js");
const { GetSchemaRequest } = sdk("./proto/provider_pb.js");
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
  const child = spawn(process.execPath, [runPlugin, root], {
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
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const text = await new Promise<string>((resolve, reject) =>
      client.getSchema(new GetSchemaRequest(), (err: Error | null, res: { getSchema(): string }) =>
        err ? reject(err) : resolve(res.getSchema()),
      ),
    );
    schema = JSON.parse(text);
  } finally {
    client.close();
  }
}, 300_000);

afterAll(async () => {
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
    for (const r of Object.values(schema.resources)) expect(r.isComponent).toBe(true);
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
