import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Bytes `paths` take on disk, like `du -s`: allocated blocks, each inode once (a job's object
 * files are hardlinks of its base's), symlinks never followed, whatever vanishes or cannot be read
 * meanwhile skipped (jobs come and go during the walk). One `lstat` per entry.
 */
export async function diskUsage(...paths: string[]): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const count = async (path: string): Promise<boolean> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return false;
    if (info.nlink > 1 && !info.isDirectory()) {
      const key = `${info.dev}:${info.ino}`;
      if (seen.has(key)) return false;
      seen.add(key);
    }
    // Some filesystems report no blocks; the apparent size is the next best thing.
    total += info.blocks > 0 || info.size === 0 ? info.blocks * 512 : info.size;
    return info.isDirectory();
  };
  const stack: string[] = [];
  for (const path of paths) if (await count(path)) stack.push(path);
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    // A few hundred at a time: a directory of a million files must not mean a million promises.
    for (let i = 0; i < entries.length; i += 256) {
      const children = entries.slice(i, i + 256).map((entry) => join(dir, entry.name));
      const isDir = await Promise.all(children.map(count));
      children.forEach((child, j) => {
        if (isDir[j]) stack.push(child);
      });
    }
  }
  return total;
}
