import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { type AgentSpec, agentInvocation } from "@claude-gateway/agents";
import {
  buildArgv,
  buildChildEnv,
  ClaudeCancelledError,
  ClaudeNotInstalledError,
  classifyOutcome,
  claudeConfigDir,
  isPlaceholderBinary,
  parseLine,
  type ResultEvent,
  RUN_MARKER_VAR,
  type RunResult,
  reapRun,
  resolveClaudeBin,
  runStopper,
  transcriptPath,
} from "@claude-gateway/claude";
import { type Logger, silentLogger } from "@claude-gateway/service-kit/log";
import { execa } from "execa";
import type { ClaudeTurns, ToolPermissionAnswer, TurnRequest } from "../ports.js";

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

/**
 * The breakglass agent on the real CLI, one process per turn. The prompt goes in as a stream-json
 * user message and stdin stays open, because every tool call no allow rule covers comes back as a
 * `can_use_tool` control request (`--permission-prompt-tool stdio`) that the turn's `canUseTool`
 * answers; stdin closes after the `result`, which ends the process.
 */
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
    run: (req) => runTurn(opts, req),
  };
}

async function runTurn(opts: ClaudeTurnsOptions, req: TurnRequest): Promise<RunResult> {
  const log = opts.logger ?? silentLogger;
  const runId = randomUUID();
  const bin = opts.bin ?? resolveClaudeBin();
  const built = buildArgv(
    agentInvocation(opts.agent, {
      session: req.resume ? { kind: "resume", id: req.sessionId } : { kind: "new", id: req.sessionId },
      output: "stream-json",
      includePartialMessages: true,
      model: opts.model,
      maxBudgetUsd: opts.maxBudgetUsd,
    }),
    { bin: bin ?? "claude" },
  );
  if (!bin || isPlaceholderBinary(bin)) {
    throw new ClaudeNotInstalledError(
      "the claude binary was not found or is the package's placeholder: install @anthropic-ai/claude-code or set CLAUDE_BIN",
    );
  }
  if (req.signal.aborted) throw new ClaudeCancelledError(String(req.signal.reason ?? ""));

  const args = [...built.args, "--input-format", "stream-json", "--permission-prompt-tool", "stdio"];
  const started = Date.now();
  const child = execa(bin, args, {
    cwd: opts.cwd,
    env: buildChildEnv(opts.sourceEnv, { runId, set: opts.setEnv }),
    extendEnv: false,
    stdin: "pipe",
    // Its own process group, so SIGTERM/SIGKILL reach every process the CLI started in it.
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  });
  const pid = child.pid;
  const send = (message: Record<string, unknown>) => {
    if (child.stdin && !child.stdin.destroyed && !child.stdin.writableEnded)
      child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  child.stdin?.on("error", () => {});
  send({ type: "user", message: { role: "user", content: req.prompt } });

  let result: ResultEvent | undefined;
  let lastMessageId: string | undefined;
  let lastMessageText = "";
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-8192);
  });

  const answer = async (requestId: string, request: Record<string, unknown>) => {
    if (request.subtype !== "can_use_tool") {
      send({
        type: "control_response",
        response: {
          subtype: "error",
          request_id: requestId,
          error: `unsupported ${String(request.subtype)}`,
        },
      });
      return;
    }
    let decision: ToolPermissionAnswer;
    try {
      decision = await req.canUseTool({ toolName: String(request.tool_name), input: request.input });
    } catch (err) {
      log.error({ err, runId }, "permission decision failed: denying");
      decision = { behavior: "deny", message: "the service could not decide: denied" };
    }
    send({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: requestId,
        response:
          decision.behavior === "allow"
            ? { behavior: "allow", updatedInput: request.input }
            : { behavior: "deny", message: decision.message },
      },
    });
  };

  const stdoutDone = new Promise<void>((resolve) => {
    if (!child.stdout) return resolve();
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {}
      const control = raw as { type?: string; request_id?: string; request?: Record<string, unknown> };
      if (control?.type === "control_request" && typeof control.request_id === "string" && control.request) {
        void answer(control.request_id, control.request);
        return;
      }
      if (control?.type === "control_cancel_request" || control?.type === "control_response") return;
      const ev = parseLine(line);
      if (!ev) return;
      if (ev.type === "result") {
        result = ev as ResultEvent;
        // The turn is over: closing stdin lets the CLI exit.
        child.stdin?.end();
      } else if (ev.type === "assistant") {
        const a = ev as {
          parent_tool_use_id?: string | null;
          message: { id: string; content: Array<{ type: string; text?: string }> };
        };
        if (!a.parent_tool_use_id) {
          if (a.message.id !== lastMessageId) {
            lastMessageId = a.message.id;
            lastMessageText = "";
          }
          for (const b of a.message.content) if (b.type === "text") lastMessageText += b.text ?? "";
        }
      }
      req.onLine(ev);
    });
    lines.on("close", () => resolve());
  });

  const exit = child.then((r) => r);
  const stopper = runStopper({ pid, exit, runId, killGraceMs: opts.killGraceMs, log });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping = stopper();
    return stopping;
  };
  let timedOut = false;
  let cancelled = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log.warn({ runId, timeoutMs: opts.timeoutMs }, "claude turn timed out; stopping it");
    void stop();
  }, opts.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    void stop();
  };
  req.signal.addEventListener("abort", onAbort, { once: true });

  try {
    const end = await exit;
    await stdoutDone;
    if (stopping) await stopping;
    // Each Bash tool command runs in its own session: the run's marker variable finds what is left.
    const reaped = await reapRun(RUN_MARKER_VAR, runId, []);
    if (reaped.length) log.warn({ runId, reaped }, "killed processes the turn left behind");
    const outcome = classifyOutcome({
      exitCode: end.exitCode,
      signal: end.signal,
      result,
      stderrTail,
      timedOut,
      timeoutMs: opts.timeoutMs,
      cancelled,
      ...(cancelled && req.signal.reason !== undefined ? { cancelReason: String(req.signal.reason) } : {}),
      ...(end.code !== undefined ? { spawnErrorCode: end.code } : {}),
      ...(req.resume ? { resumeId: req.sessionId } : {}),
      ...(lastMessageText !== "" ? { lastMessageText } : {}),
    });
    if (!outcome.ok) throw outcome.error;
    const r = outcome.result;
    return {
      result: r,
      text: outcome.text ?? r.result ?? "",
      sessionId: r.session_id,
      costUsd: r.total_cost_usd,
      wallMs: Date.now() - started,
      malformed: [],
      ...(outcome.budgetCapReached ? { budgetCapReached: true } : {}),
    };
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener("abort", onAbort);
  }
}
