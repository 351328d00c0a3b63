import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The image boot tests: slow (containers start, one real CLI job) and serial (one podman).
export default defineConfig({
  test: {
    root: dirname(fileURLToPath(import.meta.url)),
    include: ["boot.test.mjs"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
