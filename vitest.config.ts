import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    // The container test needs a Docker engine and built images: .ci/containers.sh runs it with K3SF_CONTAINERS=1.
    exclude: [
      "node_modules/**",
      ".tools/**",
      ".cache/**",
      ...(process.env.K3SF_CONTAINERS ? [] : ["test/containers/**/*.containers.test.ts"]),
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file runs in its own process; integration tests bind brokers to ephemeral loopback ports.
    pool: "forks",
    // .ci/run asks for a JSON summary too (K3SF_TEST_REPORT), from which it prints "N passed, N failed",
    // whether or not the machine sets CI.
    reporters: process.env.K3SF_TEST_REPORT
      ? ["default", ["json", { outputFile: process.env.K3SF_TEST_REPORT }]]
      : ["default"],
  },
});
