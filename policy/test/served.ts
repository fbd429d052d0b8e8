// The policy pack served the way `pulumi preview --policy-pack policy` serves it, minus the CLI: the nodejs language
// host's RunPlugin for an analyzer resolves @pulumi/pulumi/cmd/run-policy-pack from the pack's folder and runs it
// with node, arguments <engine address> "." and the pack's folder as working directory (pulumi-language-nodejs
// main.go RunPlugin; pkg/resource/plugin analyzer_plugin.go). run-policy-pack compiles index.ts with ts-node
// (type-checked), the PolicyPack prints the port of its gRPC Analyzer service, and the client below makes the
// calls the CLI makes: GetAnalyzerInfo, Configure (schema defaults filled, then the user's config), Analyze per
// resource, AnalyzeStack once.
import { ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { configFor, ResourceSpec, urnOf } from "./args";

const packDir = path.resolve(__dirname, "..");
const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const pb = sdk("./proto/analyzer_pb.js");
const rpc = sdk("./proto/analyzer_grpc_pb.js");
const { Struct } = sdk("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = sdk("google-protobuf/google/protobuf/empty_pb.js");

const LEVELS: Record<string, number> = {
  advisory: pb.EnforcementLevel.ADVISORY,
  mandatory: pb.EnforcementLevel.MANDATORY,
  disabled: pb.EnforcementLevel.DISABLED,
};
export const levelName = (n: number) => Object.keys(LEVELS).find((k) => LEVELS[k] === n) ?? String(n);

export interface Diagnostic {
  policyName: string;
  message: string;
  urn: string;
  enforcementLevel: string;
}

export interface ServedPack {
  pid: number;
  info(): Promise<any>;
  configure(config: Record<string, object>): Promise<void>;
  analyze(s: ResourceSpec): Promise<Diagnostic[]>;
  analyzeStack(specs: readonly ResourceSpec[]): Promise<{ diagnostics: Diagnostic[]; notApplicable: string[] }>;
  stop(): Promise<void>;
}

function optionsOf(s: ResourceSpec) {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(s.protect ?? false);
  o.setIgnorechangesList(s.ignoreChanges ?? []);
  o.setAliasesList(s.aliases ?? []);
  o.setAdditionalsecretoutputsList(s.additionalSecretOutputs ?? []);
  o.setDeletebeforereplacedefined(s.deleteBeforeReplace !== undefined);
  o.setDeletebeforereplace(s.deleteBeforeReplace ?? false);
  if (s.parent) o.setParent(s.parent);
  return o;
}

const struct = (props: object) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));

function diagnostics(res: any): Diagnostic[] {
  return res.getDiagnosticsList().map((d: any) => ({
    policyName: d.getPolicyname(),
    message: d.getMessage(),
    urn: d.getUrn(),
    enforcementLevel: levelName(d.getEnforcementlevel()),
  }));
}

/** Starts the pack; `stop` ends the process it started. */
export async function servePack(): Promise<ServedPack> {
  const runPath = createRequire(path.join(packDir, "index.ts")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const child: ChildProcess = spawn(process.execPath, [runPath, "127.0.0.1:0", "."], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = /^(\d+)\s*$/m.exec(out);
      if (line) resolve(line[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${stderr}${out}`)));
  });
  const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) =>
      client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
    );
  const resourceOf = (s: ResourceSpec) => {
    const r = new pb.AnalyzerResource();
    r.setType(s.type);
    r.setName(s.name);
    r.setUrn(urnOf(s));
    r.setProperties(struct(s.props));
    r.setOptions(optionsOf(s));
    if (s.parent) r.setParent(s.parent);
    r.setDependenciesList(s.dependencies ?? []);
    for (const [k, urns] of Object.entries(s.propertyDependencies ?? {})) {
      const deps = new pb.AnalyzerPropertyDependencies();
      deps.setUrnsList(urns);
      r.getPropertydependenciesMap().set(k, deps);
    }
    return r;
  };
  return {
    pid: child.pid!,
    info: () => call("getAnalyzerInfo", new Empty()),
    async configure(config) {
      const req = new pb.ConfigureAnalyzerRequest();
      for (const [name, c] of Object.entries(config)) {
        const { enforcementLevel, ...props } = c as { enforcementLevel?: string };
        const pc = new pb.PolicyConfig();
        pc.setEnforcementlevel(LEVELS[enforcementLevel ?? "mandatory"]);
        pc.setProperties(struct(props));
        req.getPolicyconfigMap().set(name, pc);
      }
      await call("configure", req);
    },
    async analyze(s) {
      const req = new pb.AnalyzeRequest();
      req.setType(s.type);
      req.setName(s.name);
      req.setUrn(urnOf(s));
      req.setProperties(struct(s.props));
      req.setOptions(optionsOf(s));
      return diagnostics(await call("analyze", req));
    },
    async analyzeStack(specs) {
      const req = new pb.AnalyzeStackRequest();
      req.setResourcesList(specs.map(resourceOf));
      const res: any = await call("analyzeStack", req);
      return {
        diagnostics: diagnostics(res),
        notApplicable: res.getNotApplicableList().map((n: any) => n.getPolicyName()),
      };
    },
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** The config the CLI sends: every policy's schema defaults, with `overrides` per policy on top. */
export function cliConfig(
  policies: readonly { name: string; enforcementLevel?: string; configSchema?: { properties: Record<string, any> } }[],
  overrides: Record<string, object> = {},
): Record<string, object> {
  return Object.fromEntries(
    policies.map((p) => [
      p.name,
      { enforcementLevel: p.enforcementLevel ?? "mandatory", ...configFor(p, overrides[p.name] ?? {}) },
    ]),
  );
}
