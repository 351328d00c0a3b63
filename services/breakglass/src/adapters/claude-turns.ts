import { stat } from "node:fs/promises";
import { type AgentSpec, agentInvocation } from "@claude-gateway/agents";
import { claudeConfigDir, runClaude, transcriptPath } from "@claude-gateway/claude";
import type { Logger } from "@claude-gateway/service-kit";
import type { ClaudeTurns, TurnRequest } from "../ports.js";

export interface ClaudeTurnsOptions {
  agent: AgentSpec;
  model: string;
  /** Every turn of every session runs here: `--resume` finds sessions by cwd. */
  cwd: string;
  timeoutMs: number;
  maxBudgetUsd: number;
  /** Where the CLI's variables come from (its login, HOME, API URL…). */
  sourceEnv: Readonly<Record<string, string | undefined>>;
  /**
   * Set in the CLI child on top of its filtered environment: PATH with the ssh wrapper first and
   * SSH_AUTH_SOCK, so the agent's `ssh devvm …` reaches the key agent.
   */
  setEnv: Readonly<Record<string, string>>;
  bin?: string;
  killGraceMs?: number;
  logger?: Logger;
}

/** The breakglass agent on the real CLI, one `claude -p` per turn. */
export function claudeTurns(opts: ClaudeTurnsOptions): ClaudeTurns {
  const configDir = claudeConfigDir({ ...opts.sourceEnv, ...opts.setEnv });
  return {
    model: opts.model,
    async hasTranscript(sessionId: string): Promise<boolean> {
      return stat(transcriptPath(configDir, opts.cwd, sessionId)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    async run(req: TurnRequest) {
      const run = runClaude({
        invocation: agentInvocation(opts.agent, {
          session: req.resume ? { kind: "resume", id: req.sessionId } : { kind: "new", id: req.sessionId },
          output: "stream-json",
          includePartialMessages: true,
          model: opts.model,
          maxBudgetUsd: opts.maxBudgetUsd,
        }),
        prompt: req.prompt,
        cwd: opts.cwd,
        timeoutMs: opts.timeoutMs,
        signal: req.signal,
        sourceEnv: opts.sourceEnv,
        setEnv: opts.setEnv,
        onEvent: req.onLine,
        ...(opts.bin ? { bin: opts.bin } : {}),
        ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
      });
      return run.done;
    },
  };
}
