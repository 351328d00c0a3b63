import { realpath, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { componentPaths, readableByOthers } from "./file-access.js";

/**
 * The variables that name files holding this service's secrets. Agents run as other users, so
 * none of these may be readable by "others".
 */
export const SECRET_FILE_VARS = [
  "AUTH_TOKENS_FILE",
  "METRICS_TOKEN_FILE",
  "NATS_PASSWORD_FILE",
  "NATS_CREDS",
  "NATS_NKEY_SEED_FILE",
  "NATS_TLS_KEY",
  "CALLER_POLICY_FILE",
  "GIT_CRYPT_KEY_FILE",
  "GIT_CREDENTIALS_FILE",
] as const;

/** `VAR (path)` for every secret file (by variable) another user could read. */
export async function secretFilesReadableByOthers(
  files: Readonly<Record<string, string>>,
): Promise<string[]> {
  const out: string[] = [];
  for (const [name, value] of Object.entries(files)) {
    // Where a reader ends up once every link is followed (Kubernetes mounts secrets through links).
    const real = await realpath(resolve(value)).catch(() => undefined);
    if (!real) continue;
    const chain = await Promise.all(componentPaths(real).map((p) => stat(p))).catch(() => undefined);
    if (chain && readableByOthers(chain)) out.push(`${name} (${value})`);
  }
  return out;
}
