import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type ClaudeTestEnv, claudeTestEnv } from "./claude-cli.js";
import { tempDir } from "./git.js";
import { type MessagesStub, startMessagesStub } from "./messages-stub.js";

/** What a test that runs the real CLI needs; fields are fresh for every test. */
export interface ClaudeWorld {
  /** One Messages API stub for the file, reset before each test. */
  readonly stub: MessagesStub;
  /** A fresh HOME and child environment per test. */
  readonly cli: ClaudeTestEnv;
  /** A fresh empty working directory per test. */
  readonly work: { dir: string; cleanup(): Promise<void> };
}

/**
 * (Its own entry point, `@claude-gateway/testkit/vitest`: it imports vitest, which benchmarks and
 * other plain scripts that use the rest of the test kit must not load.)
 *
 * Registers the vitest hooks every real-CLI test file repeats: a stub for the file, and per test
 * a reset stub, a new HOME and a new working directory, removed afterwards. Call at the top level
 * of a test file and read the fields inside tests.
 */
export function useClaudeWorld(opts: { workPrefix?: string } = {}): ClaudeWorld {
  let stub: MessagesStub | undefined;
  let cli: ClaudeTestEnv | undefined;
  let work: { dir: string; cleanup(): Promise<void> } | undefined;
  beforeAll(async () => {
    stub = await startMessagesStub();
  });
  afterAll(async () => {
    await stub?.close();
  });
  beforeEach(async () => {
    stub?.reset();
    cli = await claudeTestEnv(stub!.url);
    work = await tempDir(opts.workPrefix ?? "cg-cwd-");
  });
  afterEach(async () => {
    await cli?.cleanup();
    await work?.cleanup();
  });
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useClaudeWorld: ${what} is only set inside a test`);
    return value;
  };
  return {
    get stub() {
      return need(stub, "stub");
    },
    get cli() {
      return need(cli, "cli");
    },
    get work() {
      return need(work, "work");
    },
  };
}
