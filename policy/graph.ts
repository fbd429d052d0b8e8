// The resource graph the rules in policy/ read: every resource a stack program registers, as its type token,
// its name and its inputs, resolved (what test/support/pulumi-mocks.ts records, and what a Pulumi policy pack's
// stack validation hands over as `resources[].type/name/props`). The rules are pure functions of that list, so
// the same code runs in the tests over dev and prod in both flavors and, later, in a policy pack.
import type { Problem } from "../contract/problem";

/** One registered resource. `inputs` as resolved (unknown values absent); `id`, the provider's id, where known. */
export interface GraphResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id?: string;
}

export type Graph = readonly GraphResource[];

/** The key a rule's Problem names a resource by: `type::name`, unique within a stack. */
export const keyOf = (r: GraphResource): string => `${r.type}::${r.name}`;

export const ofType = (g: Graph, type: string): GraphResource[] => g.filter((r) => r.type === type);

/** A Problem about one resource. */
export const problemAt = (r: GraphResource, message: string): Problem => ({ field: keyOf(r), message });

/** A value or a list of them, as a list (IAM's Action, Resource and condition values take either). */
export function asList<T>(v: T | readonly T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T];
}

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The statements of a policy document given as JSON text or as an object; [] when there is none. */
export function statementsOf(policy: unknown): Statement[] {
  let doc = policy;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const s = (doc as { Statement?: Statement | Statement[] } | undefined)?.Statement;
  return asList(s);
}

/** IAM's wildcard match (`*` any run, `?` one character), case-insensitive as IAM matches actions. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(value);
}

/** Whether the statement's Action (or NotAction) covers `action`. */
export function coversAction(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !asList(s.NotAction).some((p) => wildcardMatch(p, action));
  return asList(s.Action).some((p) => wildcardMatch(p, action));
}

/** Whether the statement applies to every resource: Resource "*" or a NotResource. */
export function onEveryResource(s: Statement): boolean {
  return s.NotResource !== undefined || asList(s.Resource).includes("*");
}

/** The value of a condition key under an operator, as a list ([] when absent). */
export function conditionValues(s: Statement, operator: string, key: string): string[] {
  return asList(s.Condition?.[operator]?.[key]);
}
