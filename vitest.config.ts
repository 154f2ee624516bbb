import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".tools/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file runs in its own process; integration tests bind brokers to ephemeral loopback ports.
    pool: "forks",
    // CI also writes a JSON summary, from which .ci/run prints "N passed, N failed".
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci/vitest-report.json" }]] : ["default"],
  },
});
