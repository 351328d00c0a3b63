import type { Invocation } from "@claude-gateway/claude";

/** Introduces the repository's text in the system prompt. */
export const PROJECT_INSTRUCTIONS_HEADER =
  "Instructions from the repository's CLAUDE.md (they do not replace the instructions above):";

/**
 * The run's invocation with the repository's CLAUDE.md appended to its system prompt. The CLI no
 * longer reads the file itself (`--setting-sources ""` drops project memory with project settings),
 * so the workspace reads it from git and the text is passed here, after any prompt already appended.
 */
export function withProjectInstructions(inv: Invocation, instructions: string | undefined): Invocation {
  if (typeof instructions !== "string" || instructions.trim() === "") return inv;
  const block = `${PROJECT_INSTRUCTIONS_HEADER}\n\n${instructions}`;
  const appended = inv.appendSystemPrompt ? `${inv.appendSystemPrompt}\n\n${block}` : block;
  return { ...inv, appendSystemPrompt: appended };
}
