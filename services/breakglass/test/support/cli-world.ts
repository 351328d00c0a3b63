import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  type MessagesStub,
  processesWithEnv,
  startMessagesStub,
  tempDir,
} from "@claude-gateway/testkit";
import { execa } from "execa";
import { expect } from "vitest";

const AGENTS_DIR = fileURLToPath(new URL("../../../../agents", import.meta.url));

export interface CliWorld {
  /** The world's temp directory, removed by `close`. */
  dir: string;
  stub: MessagesStub;
  cli: ClaudeTestEnv;
  /** The variables every breakglass of this world starts with; a test adds its tokens and hosts. */
  env: Record<string, string>;
  /** Stops the stub, checks no CLI or tool process is left, removes the CLI's HOME and the dir. */
  close(): Promise<void>;
}

/**
 * What breakglass runs against in a test through the real CLI: the Messages API stub, the CLI's
 * environment, and for both hosts a fake ssh client (the script `fakeSsh` writes, given the
 * world's dir) with a key and an empty known_hosts.
 */
export async function startCliWorld(prefix: string, fakeSsh: (dir: string) => string): Promise<CliWorld> {
  const tmp = await tempDir(prefix);
  const stub = await startMessagesStub();
  const cli = await claudeTestEnv(stub.url);
  const sshBin = join(tmp.dir, "fake-ssh");
  await writeFile(sshBin, fakeSsh(tmp.dir));
  await chmod(sshBin, 0o755);
  const key = join(tmp.dir, "id_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  const knownHosts = join(tmp.dir, "known_hosts");
  await writeFile(knownHosts, "");
  return {
    dir: tmp.dir,
    stub,
    cli,
    env: {
      PORT: "0",
      HOME: cli.home,
      WORK_DIR: join(tmp.dir, "work"),
      AGENTS_DIR,
      CLAUDE_BIN: cli.bin,
      SSH_KEY_FILE: key,
      SSH_KNOWN_HOSTS_FILE: knownHosts,
      SSH_BIN: sshBin,
    },
    async close() {
      await stub.close();
      expect(await processesWithEnv({ HOME: cli.home })).toEqual([]);
      await cli.cleanup();
      await tmp.cleanup();
    },
  };
}
