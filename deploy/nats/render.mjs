#!/usr/bin/env node
// Writes the bus's generated deploy files from deploy/nats/callers.json and packages/contracts'
// busUsers: deploy/base/nats/nats-server.conf and deploy/base/nats/user-passwords.yaml.
// `--check`: write nothing, exit 1 if a committed file differs from what would be generated
// (check-manifests.mjs, run by `pnpm test`, makes the same comparison).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const check = process.argv.includes("--check");
try {
  const { deployDir, renderFiles, staleFiles } = await import("./bus.mjs");
  const files = renderFiles();
  const stale = staleFiles(files);
  if (check) {
    if (stale.length) {
      console.error(
        `out of date: ${stale.map((p) => `deploy/${p}`).join(", ")}\n` +
          "run `pnpm --filter @claude-gateway/deploy nats:render` (never edit them by hand) and commit the result",
      );
      process.exit(1);
    }
    console.log("nats: generated files are up to date");
  } else {
    for (const path of stale) writeFileSync(join(deployDir, path), files[path]);
    console.log(
      stale.length ? `nats: wrote ${stale.map((p) => `deploy/${p}`).join(", ")}` : "nats: up to date",
    );
  }
} catch (err) {
  console.error(`nats:render: ${err.message}`);
  process.exit(1);
}
