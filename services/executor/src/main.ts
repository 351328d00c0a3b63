import { NatsConnectError } from "@claude-gateway/nats";
import { ConfigError, loadConfig } from "./config.js";
import { startExecutor } from "./start.js";

try {
  const executor = await startExecutor(loadConfig());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      executor.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  // A configuration or NATS connection problem says what to fix in one message; anything else is a bug.
  console.error(err instanceof ConfigError || err instanceof NatsConnectError ? err.message : err);
  process.exit(1);
}
