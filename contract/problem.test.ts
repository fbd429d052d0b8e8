import { describe, expect, it } from "vitest";
import { formatProblem, namesFrom, nested, ownNames, renameFields } from "./problem";

describe("problems", () => {
  it("puts the field in front of the message", () => {
    expect(formatProblem({ field: "port", message: "0 must be an integer 1-65535" })).toBe(
      "port: 0 must be an integer 1-65535",
    );
  });

  it("renames fields from a table and keeps the ones it does not list", () => {
    const names = namesFrom({ name: "serviceName" });
    expect([names("name"), names("port"), names("toString"), ownNames("port")]).toEqual([
      "serviceName",
      "port",
      "toString",
      "port",
    ]);
    const problems = [
      { field: "name", message: "m1" },
      { field: "port", message: "m2" },
    ];
    expect(renameFields(problems, names)).toEqual([
      { field: "serviceName", message: "m1" },
      { field: "port", message: "m2" },
    ]);
    expect(nested("service", problems).map(formatProblem)).toEqual(["service.name: m1", "service.port: m2"]);
    expect(problems[0]!.field).toBe("name");
  });
});
