import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["spec/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores in CI: a few workers keep the suite fast without starving servers in tests.
    maxWorkers: 4,
  },
});
