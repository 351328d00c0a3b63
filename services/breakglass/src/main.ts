import { ConfigError, loadConfig } from "./config.js";
import { startBreakglass } from "./start.js";

try {
  const breakglass = await startBreakglass(loadConfig());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      breakglass.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
