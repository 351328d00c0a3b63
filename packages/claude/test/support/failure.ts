import { expect } from "vitest";
import { ClaudeError } from "../../src/index.js";

/** The `ClaudeError` a run or turn rejects with; fails the test if it resolves. */
export async function failure(p: Promise<unknown>): Promise<ClaudeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ClaudeError);
    return err as ClaudeError;
  }
  throw new Error("expected the run to fail");
}
