import { packageTestConfig } from "../../vitest.shared.js";

// It starts real nats-servers.
export default packageTestConfig({ realProcesses: ["src/nats-server.test.ts"] });
