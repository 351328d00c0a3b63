import { ConfigError } from "@claude-gateway/service-kit";
import { loadRunnerConfig } from "./runner/config.js";
import { startRunner } from "./runner/start.js";
import { SandboxSetupError } from "./sandbox/index.js";

// The runner beside a non-root executor: `node dist/runner-main.js` (services/executor/README.md).
try {
  const runner = await startRunner(loadRunnerConfig());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      runner.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof SandboxSetupError ? err.message : err);
  process.exit(1);
}
