import { ConfigError, loadConfig } from "./config.js";
import { startConversational } from "./start.js";

try {
  const service = await startConversational(loadConfig());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
