#!/usr/bin/env node
// Lints the one Dockerfile every service image is built from (deploy/Dockerfile) with
// dockerfile-utils, plus the project's rules: multi-stage, a non-root USER, an init process,
// `node dist/main.js` run directly, the base an argument pinned to an exact Node LTS release, a
// pnpm deploy --prod; and checks that deploy/images.json gives build arguments (and a size budget)
// for exactly the services there are.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = "deploy/Dockerfile";
const services = readdirSync(join(root, "services")).filter((s) =>
  existsSync(join(root, "services", s, "package.json")),
);
const images = JSON.parse(readFileSync(join(root, "deploy", "images.json"), "utf8"));
const problems = [];

const text = readFileSync(join(root, file), "utf8");
for (const d of validate(text)) {
  // Severity 1 = error, 2 = warning (dockerfile-utils' DiagnosticSeverity).
  if (d.severity <= 2) problems.push(`${file}:${d.range.start.line + 1}: ${d.message}`);
}
if ((text.match(/^FROM /gm) ?? []).length < 2) problems.push(`${file}: must be multi-stage`);
if (!/^USER (?!root|0\b)\S+/m.test(text)) problems.push(`${file}: must switch to a non-root USER`);
if (!/ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/.test(text)) problems.push(`${file}: must run under tini`);
if (!/CMD \["node", "dist\/main\.js"\]/.test(text))
  problems.push(`${file}: must run node dist/main.js directly`);
// An exact release of an even (LTS) Node line, ≥ 24 (Node 20 reached its end of life on 2026-04-30):
// deploy/images/ci-base.sh puts the same release into CI's base.
const nodeImage = /^ARG NODE_IMAGE=node:(\d+)\.\d+\.\d+-[a-z]+-slim$/m.exec(text);
if (!nodeImage) problems.push(`${file}: ARG NODE_IMAGE must be node:<exact version>-<debian suite>-slim`);
else if (Number(nodeImage[1]) < 24 || Number(nodeImage[1]) % 2 !== 0)
  problems.push(`${file}: Node ${nodeImage[1]} is no supported LTS line`);
if (!/^FROM \$\{NODE_IMAGE\}/m.test(text)) problems.push(`${file}: must build FROM \${NODE_IMAGE}`);
if (!/deploy --prod/.test(text)) problems.push(`${file}: must ship a pnpm deploy --prod`);
for (const leftover of services.filter((s) => existsSync(join(root, "services", s, "Dockerfile")))) {
  problems.push(`services/${leftover}/Dockerfile: build from deploy/Dockerfile instead`);
}

for (const svc of services) {
  const args = images[svc];
  if (!args) {
    problems.push(`deploy/images.json: no entry for services/${svc}`);
    continue;
  }
  if (args.port !== undefined && !(Number.isInteger(args.port) && args.port > 0 && args.port < 65536)) {
    problems.push(`deploy/images.json: ${svc}.port is not a port`);
  }
  if (
    !Array.isArray(args.runtimePackages) ||
    args.runtimePackages.some((p) => !/^[a-z0-9][a-z0-9+.-]*$/.test(p))
  ) {
    problems.push(`deploy/images.json: ${svc}.runtimePackages must be Debian package names`);
  }
  if (!(typeof args.budgetMB === "number" && args.budgetMB > 0))
    problems.push(`deploy/images.json: ${svc}.budgetMB (compressed size budget) must be a positive number`);
  if (args.runnerUsers !== undefined && !(Number.isInteger(args.runnerUsers) && args.runnerUsers > 0))
    problems.push(`deploy/images.json: ${svc}.runnerUsers must be a positive integer`);
}
for (const svc of Object.keys(images).filter((s) => !services.includes(s))) {
  problems.push(`deploy/images.json: ${svc} is not a service`);
}
if (!existsSync(join(root, ".dockerignore"))) problems.push(".dockerignore: missing");
if (problems.length) {
  console.error(`${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`dockerfile: ${file} linted for ${services.length} services, 0 problems`);
