import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Integration tests start real CLIs, nats-servers and executors: two cores, keep files serial.
    fileParallelism: false,
  },
});
