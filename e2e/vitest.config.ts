import { packageTestConfig } from "../vitest.shared.js";

// Only integration tests: the whole stack as `pnpm start` runs it.
export default packageTestConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
