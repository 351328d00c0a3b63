import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * Where the CLI keeps session transcripts. `--resume` only finds a session recorded under the
 * same cwd, so continuing elsewhere (another checkout, another pod) means placing the `.jsonl`
 * under the new cwd's project folder first.
 */
export function claudeConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.CLAUDE_CONFIG_DIR) return env.CLAUDE_CONFIG_DIR;
  if (!env.HOME) throw new Error("HOME is not set: the CLI cannot keep sessions");
  return join(env.HOME, ".claude");
}

/** The CLI's project folder name: the cwd with every non-alphanumeric character as '-'. */
export function projectDirName(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, "-");
}

export function transcriptPath(configDir: string, cwd: string, sessionId: string): string {
  return join(configDir, "projects", projectDirName(cwd), `${sessionId}.jsonl`);
}

/** A transcript of this session under any cwd, or undefined. */
export async function findTranscript(configDir: string, sessionId: string): Promise<string | undefined> {
  const projects = join(configDir, "projects");
  const dirs = await readdir(projects).catch(() => [] as string[]);
  for (const dir of dirs) {
    const candidate = join(projects, dir, `${sessionId}.jsonl`);
    if (await exists(candidate)) return candidate;
  }
  return undefined;
}

/** Makes a session resumable under `cwd` by copying its transcript there; false if none is found. */
export async function placeTranscriptLocally(
  configDir: string,
  cwd: string,
  sessionId: string,
): Promise<boolean> {
  const target = transcriptPath(configDir, cwd, sessionId);
  if (await exists(target)) return true;
  const found = await findTranscript(configDir, sessionId);
  if (!found) return false;
  await mkdir(join(target, ".."), { recursive: true });
  await copyFile(found, target);
  return true;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
