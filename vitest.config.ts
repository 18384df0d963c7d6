import { defineConfig } from "vitest/config";

// Two projects: the Kafka suite starts a real broker once (global setup); everything else runs without it.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["__test__/**/*.test.ts"], exclude: ["__test__/kafka*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "kafka",
          include: ["__test__/kafka*.test.ts"],
          globalSetup: ["__test__/kafka.global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Process- and broker-heavy: one file at a time so timing-sensitive tests do not flake.
          fileParallelism: false,
        },
      },
    ],
  },
});
