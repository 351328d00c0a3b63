import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DOCKERFILE = fileURLToPath(new URL("../../deploy/Dockerfile", import.meta.url));

/**
 * The `NODE_OPTIONS` the services' image sets (`deploy/Dockerfile`), so a benchmark runs them as
 * they are deployed. Throws when the Dockerfile sets none: the soak's memory bound assumes them.
 */
export function imageNodeOptions(dockerfile = readFileSync(DOCKERFILE, "utf8")): string {
  const match = /^\s*NODE_OPTIONS="([^"]*)"/m.exec(dockerfile);
  if (!match) throw new Error(`${DOCKERFILE} sets no NODE_OPTIONS="…"`);
  return match[1]!;
}
