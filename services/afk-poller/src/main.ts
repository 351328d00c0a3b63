import { runPoller } from "./start.js";

// One tick, then exit: a Kubernetes CronJob (concurrencyPolicy: Forbid) runs this.
const { exitCode } = await runPoller({ env: process.env, fetch: globalThis.fetch });
process.exitCode = exitCode;
