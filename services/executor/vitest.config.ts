import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({
  // Real git and git-crypt repositories (one behind a real https git server), and a child
  // process for a pid that is surely gone.
  realProcesses: [
    "src/workspace/manager.test.ts",
    "src/workspace/git-crypt.test.ts",
    "src/workspace/lock.test.ts",
    "src/workspace/credentials.test.ts",
    "src/workspace/budget.test.ts",
    "src/workspace/project-files.test.ts",
  ],
  testTimeout: 90_000,
  serialFiles: true,
});
