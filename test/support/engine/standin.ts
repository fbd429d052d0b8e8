// A stand-in for the Pulumi engine's ResourceMonitor and Engine gRPC services, built from the protocol
// modules @pulumi/pulumi ships (proto/*_grpc_pb.js) and the @grpc/grpc-js they load. It listens on
// 127.0.0.1 only, records every call, answers RegisterResource like the engine does for a create (preview:
// inputs back, id unknown; update: inputs plus provider-computed outputs from test/provider-answers.ts),
// answers invokes from the same table and fails any other, and says it supports only the features it
// implements. Everything it does not implement is recorded and answered UNIMPLEMENTED.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { lookups, outputsFor } from "../provider-answers";
import { ASSET_SIG, OUTPUT_VALUE_SIG, RESOURCE_SIG, SIG_KEY, UNKNOWN, mapWire, plain } from "../wire";
import { aliasesOf } from "./aliases";
import { Graph, Node, Options, changedInputs, makeUrn } from "./graph";

// The SDK's own copies, so the messages are the classes the program's client serializes.
const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const resourceGrpc = sdk("./proto/resource_grpc_pb.js");
const engineGrpc = sdk("./proto/engine_grpc_pb.js");
const resourcePb = sdk("./proto/resource_pb.js");
const enginePb = sdk("./proto/engine_pb.js");
const providerPb = sdk("./proto/provider_pb.js");
const { Struct } = sdk("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = sdk("google-protobuf/google/protobuf/empty_pb.js");
/** The SDK's protocol modules, for tests that talk to the stand-in directly. */
export const protocol = { grpc, resourceGrpc, engineGrpc, resourcePb, enginePb, providerPb, Struct, Empty };

/**
 * Features answered true: the ones this stand-in implements. The real engine (source_eval.go
 * supportsFeatureID) says true to all eleven the SDK asks; saying false to transforms, hooks,
 * parameterization, deletedWith and replaceWith makes the SDK refuse a program that uses them here.
 */
export const SUPPORTED_FEATURES = ["secrets", "resourceReferences", "outputValues", "aliasSpecs"];

/** Outputs a provider moves on when the inputs change (a new launch template version per update). */
const VERSIONED: Record<string, string[]> = {
  "aws:ec2/launchTemplate:LaunchTemplate": ["latestVersion", "defaultVersion"],
};

export interface StandInOptions {
  stack: string;
  project: string;
  dryRun: boolean;
  /** The engine's Pwd (the program directory): relative asset paths are read from there. */
  programDir: string;
  /** The state the previous update left, if any. */
  prior?: Graph;
}

type Callback = (err: { code: number; details: string } | null, res?: unknown) => void;
type Handler = (req: any) => unknown;

export class StandInEngine {
  readonly graph: Graph = { nodes: new Map(), outputs: new Map() };
  readonly invokes: { tok: string; args: unknown; answered: boolean }[] = [];
  readonly logs: { severity: number; message: string; urn: string }[] = [];
  readonly features: string[] = [];
  readonly unimplemented: string[] = [];
  /** Calls this stand-in refused (asset not readable, handler bug). */
  readonly errors: string[] = [];
  /** Every payload received, for the clear-text secret scan. */
  readonly received: { what: string; payload: unknown }[] = [];
  /** RPC counts by method. */
  readonly calls: Record<string, number> = {};
  rootUrn = "";
  shutdownSignaled = false;
  address = "";
  private server: any;

  private constructor(private readonly opts: StandInOptions) {}

  static async start(opts: StandInOptions): Promise<StandInEngine> {
    const engine = new StandInEngine(opts);
    // Same cap as the CLI's gRPC servers (rpcutil.MaxRPCMessageSize, 400 MiB).
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(
      resourceGrpc.ResourceMonitorService,
      engine.service(resourceGrpc.ResourceMonitorService, engine.monitorHandlers()),
    );
    server.addService(engineGrpc.EngineService, engine.service(engineGrpc.EngineService, engine.engineHandlers()));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err: Error | null, p: number) =>
        err ? reject(err) : resolve(p),
      ),
    );
    engine.server = server;
    engine.address = `127.0.0.1:${port}`;
    return engine;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** Every method of `def`: ours where implemented, else recorded and UNIMPLEMENTED; a throw becomes INTERNAL. */
  private service(
    def: Record<string, unknown>,
    impl: Record<string, Handler>,
  ): Record<string, (call: any, cb: Callback) => void> {
    const out: Record<string, (call: any, cb: Callback) => void> = {};
    for (const method of Object.keys(def)) {
      out[method] = (call, cb) => {
        this.calls[method] = (this.calls[method] ?? 0) + 1;
        const h = impl[method];
        if (!h) {
          this.unimplemented.push(method);
          return cb({ code: grpc.status.UNIMPLEMENTED, details: `stand-in engine: ${method} is not implemented` });
        }
        try {
          cb(null, h(call.request));
        } catch (e) {
          const msg = `${method}: ${(e as Error).message}`;
          this.errors.push(msg);
          cb({ code: grpc.status.INTERNAL, details: msg });
        }
      };
    }
    return out;
  }

  private monitorHandlers(): Record<string, Handler> {
    return {
      supportsFeature: (req) => {
        this.features.push(req.getId());
        const res = new resourcePb.SupportsFeatureResponse();
        res.setHassupport(SUPPORTED_FEATURES.includes(req.getId()));
        return res;
      },
      registerResource: (req) => this.registerResource(req),
      registerResourceOutputs: (req) => {
        const outputs = req.getOutputs()?.toJavaScript() ?? {};
        this.received.push({ what: `RegisterResourceOutputs ${req.getUrn()}`, payload: outputs });
        this.graph.outputs.set(req.getUrn(), outputs);
        return new Empty();
      },
      invoke: (req) => this.invoke(req),
      signalAndWaitForShutdown: () => {
        this.shutdownSignaled = true;
        return new Empty();
      },
    };
  }

  private engineHandlers(): Record<string, Handler> {
    return {
      log: (req) => {
        this.logs.push({ severity: req.getSeverity(), message: req.getMessage(), urn: req.getUrn() });
        this.received.push({ what: "Log", payload: req.getMessage() });
        return new Empty();
      },
      setRootResource: (req) => {
        this.rootUrn = req.getUrn();
        return new enginePb.SetRootResourceResponse();
      },
      getRootResource: () => {
        const res = new enginePb.GetRootResourceResponse();
        res.setUrn(this.rootUrn);
        return res;
      },
    };
  }

  private registerResource(req: any): unknown {
    const { stack, project, dryRun, prior } = this.opts;
    const type: string = req.getType();
    const name: string = req.getName();
    const parent: string = req.getParent();
    const custom: boolean = req.getCustom();
    const wire = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    this.received.push({ what: `RegisterResource ${type}::${name}`, payload: wire });
    const urn = makeUrn(stack, project, type, name, parent);
    const options = optionsOf(
      req,
      aliasesOf(req, parent, this.graph.nodes.get(parent)?.options.aliases ?? [], stack, project),
    );
    const parentNode = this.graph.nodes.get(parent);
    // The engine gives a child its parent's protect and retainOnDelete when the child sets none.
    const protect = options.protect ?? parentNode?.protect ?? false;
    const retainOnDelete = options.retainOnDelete ?? parentNode?.retainOnDelete ?? false;
    const inputs = this.stateInputs(wire);
    const id = custom && !dryRun ? `${name}-id` : "";
    let outputs: Record<string, unknown> = {};
    if (custom) {
      outputs = echo(wire);
      if (!dryRun) Object.assign(outputs, outputsFor(type, name, plain(wire) as Record<string, any>));
    }
    const node: Node = { urn, type, name, parent, custom, id, inputs, outputs, options, protect, retainOnDelete };
    const before = prior?.nodes.get(urn);
    if (!dryRun && before)
      for (const k of VERSIONED[type] ?? []) {
        const was = Number(before.outputs[k] ?? 1);
        outputs[k] = changedInputs(before, node).length ? was + 1 : was;
      }
    if (this.graph.nodes.has(urn)) throw new Error(`duplicate URN ${urn}`);
    this.graph.nodes.set(urn, node);
    const res = new resourcePb.RegisterResourceResponse();
    res.setUrn(urn);
    res.setId(id);
    res.setObject(Struct.fromJavaScript(JSON.parse(JSON.stringify(outputs))));
    res.setResult(resourcePb.Result.SUCCESS);
    return res;
  }

  /** Inputs as the engine keeps them: each asset hashed from its file, read relative to the program directory. */
  private stateInputs(wire: Record<string, unknown>): Record<string, unknown> {
    return mapWire(downgrade(wire), (sig, o) => {
      if (sig !== ASSET_SIG || typeof o.path !== "string") return undefined;
      const file = path.resolve(this.opts.programDir, o.path);
      let content: Buffer;
      try {
        content = fs.readFileSync(file);
      } catch (e) {
        // The engine's words (asset.go readPath), so the program fails as `pulumi up` would.
        throw new Error(`failed to open asset file '${file}': ${(e as Error).message}`, { cause: e });
      }
      return { [SIG_KEY]: ASSET_SIG, hash: createHash("sha256").update(content).digest("hex"), path: o.path };
    }) as Record<string, unknown>;
  }

  private invoke(req: any): unknown {
    const tok: string = req.getTok();
    const args = req.getArgs()?.toJavaScript() ?? {};
    this.received.push({ what: `Invoke ${tok}`, payload: args });
    const answer = lookups[tok];
    this.invokes.push({ tok, args, answered: !!answer });
    const res = new providerPb.InvokeResponse();
    if (!answer) {
      const failure = new providerPb.CheckFailure();
      failure.setProperty("");
      failure.setReason(
        `the stand-in engine has no answer for ${tok}: add one to test/provider-answers.ts only if the program truly needs it`,
      );
      res.setFailuresList([failure]);
    } else res.setReturn(Struct.fromJavaScript(JSON.parse(JSON.stringify(answer(plain(args) as Record<string, any>)))));
    return res;
  }
}

/** References to their id (or URN) and output values to their value, as a provider's answer has them. */
function downgrade(v: unknown): unknown {
  return mapWire(v, (sig, o) => {
    if (sig === RESOURCE_SIG) return o.id ?? o.urn;
    if (sig === OUTPUT_VALUE_SIG) return "value" in o ? downgrade(o.value) : UNKNOWN;
    return undefined;
  });
}

/** Inputs sent back as outputs: secrets stay wrapped, assets pass unchanged. */
function echo(wire: Record<string, unknown>): Record<string, unknown> {
  return downgrade(wire) as Record<string, unknown>;
}

function optionsOf(req: any, aliases: string[]): Options {
  const map = (m: any, f: (v: any) => any) => {
    const o: Record<string, any> = {};
    m.forEach((v: any, k: string) => {
      o[k] = f(v);
    });
    return o;
  };
  return {
    protect: req.hasProtect() ? req.getProtect() : undefined,
    retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
    deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    dependencies: req.getDependenciesList(),
    propertyDependencies: map(req.getPropertydependenciesMap(), (d) => d.getUrnsList()),
    aliases,
    provider: req.getProvider(),
    deletedWith: req.getDeletedwith(),
    version: req.getVersion(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    customTimeouts: timeoutsOf(req.getCustomtimeouts()),
  };
}

function timeoutsOf(t: any): Record<string, string> | undefined {
  const set = Object.entries({
    create: t?.getCreate(),
    update: t?.getUpdate(),
    delete: t?.getDelete(),
    read: t?.getRead(),
  }).filter(([, v]) => v);
  return set.length ? (Object.fromEntries(set) as Record<string, string>) : undefined;
}
