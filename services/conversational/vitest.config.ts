import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({ testTimeout: 90_000, serialFiles: true });
