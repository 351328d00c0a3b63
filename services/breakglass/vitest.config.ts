import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({
  unit: ["src/**/*.test.ts", "ui/src/**/*.test.ts"],
  testTimeout: 90_000,
  serialFiles: true,
});
