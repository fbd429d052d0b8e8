// The resource graphs of the real stack program, as the Pulumi CLI would hand them to a policy pack: each stack
// (dev, prod) and flavor (alb, haproxy) run through @pulumi/pulumi's own entry point against the stand-in engine
// (test/support/engine/), as `pulumi up` (no unknowns). Per resource, what the analyzer receives:
// - Analyze (resource policies): the inputs the program registered;
// - AnalyzeStack (stack policies): the state after the update, the provider's outputs for a custom resource and the
//   registered outputs for a component (pulumi/pulumi pkg/resource/deploy step_generator.go AnalyzeResources: every
//   new resource's Outputs, its state's protect, its goal's ignoreChanges and deleteBeforeReplace, its parent,
//   dependencies and property dependencies).
import { runProgram, explain } from "../../test/support/engine/launch";
import type { Graph } from "../../test/support/engine/graph";
import { tempBundle } from "../../test/support/stack-config";
import type { ResourceSpec } from "./args";

export type StackName = "dev" | "prod";
export type Flavor = "alb" | "haproxy";
export const variants: readonly [StackName, Flavor][] = [
  ["dev", "alb"],
  ["dev", "haproxy"],
  ["prod", "alb"],
  ["prod", "haproxy"],
];

export interface PolicyGraph {
  /** What Analyze sees, one resource at a time. */
  registered: ResourceSpec[];
  /** What AnalyzeStack sees. */
  state: ResourceSpec[];
}

function specsOf(g: Graph, which: "registered" | "state"): ResourceSpec[] {
  return [...g.nodes.values()].map((n) => ({
    type: n.type,
    name: n.name,
    urn: n.urn,
    props: (which === "registered" ? n.inputs : n.custom ? n.outputs : (g.outputs.get(n.urn) ?? {})) as Record<
      string,
      unknown
    >,
    protect: n.protect,
    ignoreChanges: n.options.ignoreChanges,
    aliases: n.options.aliases,
    additionalSecretOutputs: n.options.additionalSecretOutputs,
    ...(n.options.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: n.options.deleteBeforeReplace } : {}),
    ...(n.parent ? { parent: n.parent } : {}),
    dependencies: n.options.dependencies,
    propertyDependencies: n.options.propertyDependencies,
  }));
}

/**
 * The four graphs as `pulumi up` leaves them (keys `dev/alb` ...), and prod's as `pulumi preview` of a new stack
 * sees them (`prod/alb preview` ...: ids and ARNs not created yet are unknown), two program runs at a time (a run
 * keeps one core busy).
 */
export async function policyGraphs(): Promise<Map<string, PolicyGraph>> {
  const bundle = tempBundle("console.log('policy graph')\n");
  const out = new Map<string, PolicyGraph>();
  try {
    const runs: [StackName, Flavor, boolean][] = [
      ...variants.map(([s, f]): [StackName, Flavor, boolean] => [s, f, false]),
      ["prod", "alb", true],
      ["prod", "haproxy", true],
    ];
    const worker = async () => {
      for (let v = runs.shift(); v; v = runs.shift()) {
        const [stack, loadBalancer, dryRun] = v;
        const run = await runProgram({
          stack,
          dryRun,
          typecheck: false,
          overrides: { loadBalancer, bundlePath: bundle.file },
        });
        const key = `${stack}/${loadBalancer}${dryRun ? " preview" : ""}`;
        if (run.code !== 0) throw new Error(`${key}: ${explain(run)}`);
        const g = run.engine.graph;
        out.set(key, { registered: specsOf(g, "registered"), state: specsOf(g, "state") });
      }
    };
    await Promise.all([worker(), worker()]);
  } finally {
    bundle.dispose();
  }
  return out;
}
