// What a resource waits for through its `dependsOn` option, resolved the way the SDK resolves it before it
// registers the resource (@pulumi/pulumi runtime/dependsOn.ts gatherExplicitDependencies: resources, and
// for an Output the resources it was computed from).
import * as pulumi from "@pulumi/pulumi";
import { valueOf } from "./pulumi-mocks";

const { gatherExplicitDependencies } = require("@pulumi/pulumi/runtime/dependsOn") as {
  gatherExplicitDependencies(d: pulumi.ResourceOptions["dependsOn"]): Promise<pulumi.Resource[]>;
};

/** `type::name` of every resource `opts.dependsOn` makes the resource wait for, sorted. */
export async function explicitDependencies(opts: pulumi.ResourceOptions | undefined): Promise<string[]> {
  const resources = await gatherExplicitDependencies(opts?.dependsOn);
  const urns = await Promise.all(resources.map((r) => valueOf(r.urn)));
  return [
    ...new Set(
      urns.map((u) =>
        u
          .split("::")
          .slice(-2)
          .map((p, i) => (i === 0 ? p.split("$").pop()! : p))
          .join("::"),
      ),
    ),
  ].sort();
}
