#!/usr/bin/env node
// Lints every services/*/Dockerfile with dockerfile-utils, plus the project's rules: multi-stage,
// a non-root USER, an init process, and `node dist/main.js` run directly.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const services = readdirSync(join(root, "services")).filter((s) =>
  existsSync(join(root, "services", s, "package.json")),
);
const problems = [];
for (const svc of services) {
  const file = join("services", svc, "Dockerfile");
  if (!existsSync(join(root, file))) {
    problems.push(`${file}: missing`);
    continue;
  }
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
  if (!/turbo prune @claude-gateway\//.test(text)) problems.push(`${file}: must build from a turbo prune`);
  if (!/deploy --prod/.test(text)) problems.push(`${file}: must ship a pnpm deploy --prod`);
}
if (!existsSync(join(root, ".dockerignore"))) problems.push(".dockerignore: missing");
if (problems.length) {
  console.error(`${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`dockerfiles: ${services.length} linted, 0 problems`);
