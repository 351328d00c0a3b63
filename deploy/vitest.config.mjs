import { defineConfig } from "vitest/config";

// deploy's unit tests (`pnpm test`); the image boot tests are `pnpm images:test` (images/vitest.config.mjs).
export default defineConfig({
  test: {
    include: ["**/*.test.mjs"],
    exclude: ["**/node_modules/**", "images/boot.test.mjs"],
  },
});
