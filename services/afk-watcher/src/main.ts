import { runWatcher } from "./run.js";

// One tick, then exit: a Kubernetes CronJob (concurrencyPolicy: Forbid) runs this.
const { exitCode } = await runWatcher({ env: process.env, fetch: globalThis.fetch });
process.exitCode = exitCode;
