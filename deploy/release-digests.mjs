#!/usr/bin/env node
// The release step's last part: points the prod overlay at the images just pushed, by digest.
//
//   node deploy/release-digests.mjs --registry <host>/<path> --digests <dir> [--overlay <dir>]
//
// <dir> holds one file per image, `<service>.digest` (and `nats.digest` to move nats), each the
// sha256 digest `podman push --digestfile` writes. Rewrites <overlay>/kustomization.yaml (default
// deploy/overlays/prod) in place, comments kept, or writes nothing and exits 1 listing every
// problem. The steps around it: deploy/README.md, "Releasing to prod".
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseDigestFile, pinImages, ReleaseError } from "./release/digests.mjs";

const here = dirname(fileURLToPath(import.meta.url));

try {
  const { values } = parseArgs({
    options: {
      registry: { type: "string" },
      digests: { type: "string" },
      overlay: { type: "string", default: join(here, "overlays", "prod") },
    },
  });
  if (!values.registry || !values.digests)
    throw new ReleaseError([
      "usage: release-digests.mjs --registry <host>/<path> --digests <dir> [--overlay <dir>]",
    ]);
  const digests = new Map();
  const problems = [];
  for (const file of readdirSync(values.digests)
    .filter((f) => f.endsWith(".digest"))
    .sort()) {
    try {
      digests.set(file, parseDigestFile(readFileSync(join(values.digests, file), "utf8"), file));
    } catch (err) {
      problems.push(...(err.problems ?? [err.message]));
    }
  }
  if (problems.length) throw new ReleaseError(problems);
  const path = join(values.overlay, "kustomization.yaml");
  const { text, pinned } = pinImages(readFileSync(path, "utf8"), { registry: values.registry, digests });
  writeFileSync(path, text);
  for (const { name, ref } of pinned) console.log(`${name} → ${ref}`);
  console.log(`wrote ${path}: check it with \`node deploy/check-manifests.mjs\`, then commit it`);
} catch (err) {
  console.error(`release-digests: ${err.problems ? `\n- ${err.problems.join("\n- ")}` : err.message}`);
  process.exit(1);
}
