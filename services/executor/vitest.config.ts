import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({
  // Real git and git-crypt repositories, and a child process for a pid that is surely gone.
  realProcesses: [
    "src/workspace/manager.test.ts",
    "src/workspace/git-crypt.test.ts",
    "src/workspace/lock.test.ts",
  ],
  testTimeout: 90_000,
  serialFiles: true,
});
