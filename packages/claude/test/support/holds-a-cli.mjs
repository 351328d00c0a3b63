// A service stand-in: starts one warm CLI with the built package, prints its pid, then waits to
// be killed. Run by `parent-death.cli.test.ts`.
import { startWarm } from "../../dist/index.js";

const p = startWarm({
  invocation: { profile: { kind: "no-tools" }, session: { kind: "new" }, output: "stream-json" },
  cwd: process.env.HOLD_CWD,
  bin: process.env.HOLD_BIN,
  sourceEnv: JSON.parse(process.env.HOLD_ENV),
});
// A turn whose API request the stub holds open: the CLI has a reason to live on.
p.turn({ prompt: "hang", timeoutMs: 600_000 }).catch(() => {});
console.log(JSON.stringify({ pid: p.pid }));
setInterval(() => {}, 60_000);
