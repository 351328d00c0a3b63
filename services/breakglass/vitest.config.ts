import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "ui/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Integration tests start real CLIs, sshd and Chromium: two cores, keep files serial.
    fileParallelism: false,
  },
});
