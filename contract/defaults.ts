// The one "defaults, then what the caller gave" merge of every options object in the repository.

/**
 * `defaults` overridden by every property of `given` that is not undefined, so `{ port: undefined }`
 * keeps the default port. Shallow: a nested object in `given` replaces the default one whole.
 */
export function withDefaults<T extends object>(defaults: T, given: Partial<T> = {}): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(given))
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  return merged;
}
