import { realpath, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { componentPaths, searchableByOthers } from "./file-access.js";

/**
 * Why a runner user (not the owner, in no group of ours) could not reach `path`: the first
 * directory on the way that others may not pass, after following links. Undefined when it can.
 */
export async function unreachableByOthers(
  path: string,
  { executable = false } = {},
): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  if (!real) return `${path} does not exist`;
  const dirs = componentPaths(executable ? dirname(real) : real);
  for (const dir of dirs) {
    const s = await stat(dir);
    if (!searchableByOthers([s]))
      return `${dir} (mode ${(s.mode & 0o777).toString(8)}) does not let other users pass`;
  }
  if (executable) {
    const s = await stat(real);
    if ((s.mode & 0o005) !== 0o005)
      return `${real} (mode ${(s.mode & 0o777).toString(8)}) is not readable and executable by other users`;
  }
  return undefined;
}
