import { chmod, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isCode } from "./lock.js";

/**
 * `rm -rf dir`, also when the agent left read-only directories behind (git's object files are
 * read-only, which `rm` does not mind, but a `chmod -R a-w` by a job would stop it). Missing is fine.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    if (!isCode(error, "EACCES") && !isCode(error, "EPERM")) throw error;
    await makeDirsWritable(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeDirsWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeDirsWritable(join(dir, entry.name));
  }
}
