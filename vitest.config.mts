import { defineConfig } from "vitest/config";

// Test files run one at a time: many of them start real servers and load generators,
// and two of those sharing 2 cores would measure each other instead of the code.
// Under CI the run also writes a JSON report, from which .ci/run prints "N passed, N failed".
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**", ".local/**", ".cache/**", "examples/*/node_modules/**"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: ".ci/results.json" },
  },
});
