// A graph node as the stand-in engine records one, for tests that build graphs by hand.
import { Node } from "./graph";

/** A custom resource `name` of `type` with `inputs`, no options set, and `more` over that (urn, parent, ...). */
export function fakeNode(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  more: Partial<Node> & { urn: string },
): Node {
  return {
    type,
    name,
    parent: "",
    custom: true,
    id: `${name}-id`,
    inputs,
    outputs: {},
    options: {
      ignoreChanges: [],
      replaceOnChanges: [],
      dependencies: [],
      propertyDependencies: {},
      aliases: [],
      provider: "",
      deletedWith: "",
      version: "",
      additionalSecretOutputs: [],
    },
    protect: false,
    retainOnDelete: false,
    ...more,
  };
}
