import { describe, expect, it } from "vitest";
import { withDefaults } from "./defaults";

describe("withDefaults", () => {
  it("keeps a default where the caller gave undefined or nothing", () => {
    const defaults = { a: 1, b: "x", c: { d: 1 } as { d: number } | undefined };
    expect(withDefaults(defaults, { a: undefined, b: "y" })).toEqual({ a: 1, b: "y", c: { d: 1 } });
    expect(withDefaults(defaults)).toEqual(defaults);
    expect(withDefaults(defaults, { c: { d: 2 } }).c).toEqual({ d: 2 });
    expect(withDefaults(defaults, { a: 0, b: "" })).toMatchObject({ a: 0, b: "" });
    expect(defaults.a).toBe(1);
  });
});
