#!/usr/bin/env node
// `pnpm images`: builds every service's image from deploy/Dockerfile with podman (daemonless), the
// service's arguments from deploy/images.json, then reports each image's build time and its size
// compressed as a registry stores it, against the service's budget (images.json `budgetMB`).
//
//   pnpm images [--base <image>] [--tag <tag>] [service …]
//
// --base (or IMAGES_BASE) replaces the Dockerfile's NODE_IMAGE: CI passes the local base that
// deploy/images/ci-base.sh builds. Exits 1 if a build fails or an image is over its budget.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./paths.mjs";
import { buildArgs, formatReport, imageName, overBudget, parseArgs } from "./plan.mjs";

const images = JSON.parse(readFileSync(join(root, "deploy", "images.json"), "utf8"));
const opts = parseArgs(process.argv.slice(2), process.env, Object.keys(images));
const podman = process.env.PODMAN ?? "podman";

/**
 * The image's layers and config as a registry holds them (gzip): podman writes them compressed
 * only in the `docker-dir` layout, whose manifest lists each blob's size.
 */
function compressedBytes(image) {
  const dir = mkdtempSync(join(tmpdir(), "image-size-"));
  try {
    execFileSync(
      podman,
      ["save", "--quiet", "--format", "docker-dir", "--compress", "-o", join(dir, "image"), image],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    const manifest = JSON.parse(readFileSync(join(dir, "image", "manifest.json"), "utf8"));
    return [manifest.config, ...manifest.layers].reduce((sum, d) => sum + d.size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
let failed = false;
for (const service of opts.services) {
  const name = imageName(service, opts.tag);
  const args = [
    "build",
    `--isolation=${process.env.IMAGES_ISOLATION ?? "chroot"}`,
    // Build steps fetch packages (apt, the npm registry); the containers that run them never do.
    "--network=host",
    "-f",
    "deploy/Dockerfile",
    ...buildArgs(images[service], service, opts.base).flatMap((a) => ["--build-arg", a]),
    "-t",
    name,
    ".",
  ];
  console.log(`==> ${name}`);
  const started = process.hrtime.bigint();
  try {
    execFileSync(podman, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  } catch {
    console.error(`!! ${name}: the build failed`);
    failed = true;
    continue;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rows.push({
    service,
    image: name,
    seconds,
    bytes: compressedBytes(name),
    budgetMB: images[service].budgetMB,
  });
}

console.log(`\n${formatReport(rows)}`);
const over = rows.filter(overBudget);
for (const r of over) console.error(`!! ${r.image} is over its budget of ${r.budgetMB} MB compressed`);
process.exit(failed || over.length ? 1 : 0);
