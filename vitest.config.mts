import { defineConfig } from "vitest/config";

// Test files run one at a time: many of them start real servers and load generators,
// and two of those sharing 2 cores would measure each other instead of the code.
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**", ".local/**", ".cache/**"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
