import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { sha256File } from "./digest";

describe("sha256File", () => {
  it("hashes as sha256sum does and throws when the file is missing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "digest-"));
    try {
      const file = path.join(dir, "server.js");
      fs.writeFileSync(file, "console.log('hi')\n");
      expect(sha256File(file)).toBe(execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]);
      expect(() => sha256File(path.join(dir, "absent.js"))).toThrow(/ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
