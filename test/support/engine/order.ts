// The order in which the engine would run the steps of a second update, from the two recorded graphs, as
// pulumi/pulumi's deployment executor does (pkg/resource/deploy, read at 1b59498 of Aug 2026):
// - step_generator.go: a replacement is delete-before-replace when the provider's diff asks it, unless the
//   resource's own deleteBeforeReplace option is set, which wins either way ("The user can override the
//   provider's decision"); then the old resource is deleted first, the new one created after it;
// - otherwise (create-before-delete) the new resource is created at its registration, and the old one is
//   deleted only in performPostSteps (deployment_executor.go), after the program has exited, that is after every
//   registration, and so every create, has returned.
// Steps that can run in parallel keep their registration order here: only what comes before what matters.
import { Change, Graph, diffGraphs } from "./graph";
import { replacementFor } from "./replacement";

export type Op = "create" | "update" | "create-replacement" | "delete-replaced" | "delete";

export interface OrderedStep {
  op: Op;
  urn: string;
  type: string;
}

/** True when the engine would delete the old resource before creating its replacement. */
export function deletesBeforeReplace(after: Graph, urn: string): boolean {
  const node = after.nodes.get(urn)!;
  return node.options.deleteBeforeReplace ?? replacementFor(node.type).deleteBeforeReplace ?? false;
}

export function deploymentOrder(before: Graph, after: Graph): OrderedStep[] {
  const changes = diffGraphs(before, after);
  const byUrn = new Map(changes.map((c) => [c.urn, c]));
  const steps: OrderedStep[] = [];
  const post: OrderedStep[] = [];
  const step = (op: Op, c: Change): OrderedStep => ({ op, urn: c.urn, type: c.type });
  for (const urn of after.nodes.keys()) {
    const c = byUrn.get(urn);
    if (!c || c.step === "same") continue;
    if (c.step === "create") steps.push(step("create", c));
    else if (c.step === "update") steps.push(step("update", c));
    else if (c.step === "replace") {
      if (deletesBeforeReplace(after, urn)) steps.push(step("delete-replaced", c), step("create-replacement", c));
      else {
        steps.push(step("create-replacement", c));
        post.push(step("delete-replaced", c));
      }
    }
  }
  for (const c of changes) if (c.step === "delete") post.push(step("delete", c));
  return [...steps, ...post];
}
