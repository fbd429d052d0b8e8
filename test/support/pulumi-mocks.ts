// Pulumi mocks shared by the component and stack tests. `newResource` answers plausible ids, ARNs and
// DNS names; `call` answers only the lookups of test/provider-answers.ts and throws on anything else,
// so a component that starts calling an unexpected data source fails its tests instead of passing on
// made-up data. Every registration is recorded with its inputs, and with the raw wire form of those
// inputs, in which Pulumi secrets are still wrapped: that is how tests tell a secret input from a
// value in clear text.
import * as pulumi from "@pulumi/pulumi";
import { lookups, outputsFor } from "./provider-answers";
export { ACCOUNT_ID, MOCK_AMI_ID, REGION } from "./provider-answers";
export { clearTextPaths, isSecretOnWire } from "./wire";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Inputs as sent over the wire: secrets appear as { [SIG_KEY]: SECRET_SIG, value }. */
  wire: unknown;
}

export interface MockRecorder {
  resources: RecordedResource[];
  /** Raw wire form of every registerResourceOutputs call (components and the stack), by URN. */
  outputWires: Map<string, unknown>;
  calls: { token: string; inputs: Record<string, any> }[];
  ofType(type: string): RecordedResource[];
  one(type: string): RecordedResource;
  /** Forgets what earlier tests recorded; the monitor itself lives for the whole file. */
  clear(): void;
}

export interface MockOptions {
  project?: string;
  stack?: string;
  /** Full config keys ("project:key") to plain string values, as the CLI passes them. */
  config?: Record<string, string>;
  secretKeys?: string[];
}

export async function setupMocks(opts: MockOptions = {}): Promise<MockRecorder> {
  const resources: RecordedResource[] = [];
  const calls: MockRecorder["calls"] = [];
  const wires = new Map<string, unknown>();
  const outputWires = new Map<string, unknown>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const key = `${args.type}::${args.name}`;
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, wire: wires.get(key) });
      return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) } };
    },
    call(args) {
      calls.push({ token: args.token, inputs: args.inputs });
      const answer = lookups[args.token];
      if (!answer)
        throw new Error(
          `unmocked call ${args.token}: add it to test/support/provider-answers.ts only if the component truly needs it`,
        );
      return answer(args.inputs);
    },
  };
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
  await pulumi.runtime.setMocks(mocks, opts.project ?? "node-service-aws", opts.stack ?? "test", false);
  // Capture the raw wire inputs before the mock monitor unwraps secrets for newResource.
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    wires.set(`${req.getType()}::${req.getName()}`, req.getObject()?.toJavaScript());
    return register(req, cb);
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, cb: any) => {
    outputWires.set(req.getUrn(), req.getOutputs()?.toJavaScript());
    return registerOutputs(req, cb);
  };
  return {
    resources,
    outputWires,
    calls,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type) {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0]!;
    },
    clear() {
      resources.length = 0;
      calls.length = 0;
    },
  };
}

export interface ProgramRun<T> {
  outputs: T;
  /** Resource options as given, by "type::name" (ignoreChanges, protect, ... are not part of the inputs). */
  options: Map<string, pulumi.ResourceOptions>;
}

/** Runs `program` as the CLI would: inside a root stack, its result as the stack outputs. */
export async function runProgram<T extends Record<string, unknown>>(
  program: () => T,
): Promise<ProgramRun<Record<string, unknown>>> {
  const options = new Map<string, pulumi.ResourceOptions>();
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      options.set(`${a.type}::${a.name}`, a.opts);
      return undefined;
    });
    return program();
  });
  await settle();
  return { outputs: (outputs ?? {}) as Record<string, unknown>, options };
}

/** Waits until every registration started so far reached the mocks. */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings");
  await settings.waitForRPCs();
}

/** Resolves an Output in a test (mocks run applies, also of unknown-free values). */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) =>
    pulumi.output(o as pulumi.Input<T>).apply((v) => {
      resolve(v as T);
      return v;
    }),
  );
}
