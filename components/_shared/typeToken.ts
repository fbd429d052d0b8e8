// Component type tokens: `node-service-aws:index:<Type>`, the form a multi-language Pulumi package
// needs. Components registered under an older token keep it as an alias, so a stack created before the
// rename keeps every resource (a changed URN would be a delete and a create on its next `pulumi up`).
import * as pulumi from "@pulumi/pulumi";

export const packageName = "node-service-aws";

export function typeToken(type: string): string {
  return `${packageName}:index:${type}`;
}

/** `opts` plus an alias to the type token the component had before (the engine carries it to every child). */
export function withFormerType(
  formerType: string,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: formerType }] };
}
