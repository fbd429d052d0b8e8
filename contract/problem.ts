// What every validator returns: the field to change and what is wrong with it, apart. Callers map the
// field to their own name for it (a config key, an environment variable, a nested path) and never
// parse the message. A message does not start with its field: formatProblem puts `field: ` in front.

/** One thing wrong with an input. `message` says what is wrong and the fix, without the field's name in front. */
export interface Problem {
  field: string;
  message: string;
}

/**
 * How a caller names a validator's fields. Validators take one so that a message mentioning another
 * field (`must exceed keepAliveTimeoutMs`) uses the caller's name for it; callers map `field` with the
 * same function (renameFields).
 */
export type FieldNames = (field: string) => string;

/** The validator's own names. */
export const ownNames: FieldNames = (field) => field;

/** Names from a table; a field the table does not list keeps its own name. */
export function namesFrom(table: Readonly<Record<string, string>>): FieldNames {
  return (field) => (Object.hasOwn(table, field) ? table[field]! : field);
}

/** The problems with each field given the caller's name. */
export function renameFields(problems: readonly Problem[], names: FieldNames): Problem[] {
  return problems.map((p) => ({ field: names(p.field), message: p.message }));
}

/** The problems of a nested input under the field that holds it: `port` -> `service.port`. */
export function nested(field: string, problems: readonly Problem[]): Problem[] {
  return renameFields(problems, (f) => `${field}.${f}`);
}

/** The line a user sees: `field: message`. */
export function formatProblem(p: Problem): string {
  return `${p.field}: ${p.message}`;
}
