import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { silentLogger } from "@claude-gateway/service-kit/log";
import { buildArgv } from "./argv.js";
import { isPlaceholderBinary, resolveClaudeBin } from "./bin.js";
import { buildChildEnv } from "./child-env.js";
import { ClaudeCancelledError, ClaudeCrashedError, ClaudeNotInstalledError } from "./errors.js";
import type { AssistantEvent, ParsedLine, ResultEvent } from "./events.js";
import type { Invocation } from "./invocation.js";
import { type LaunchExit, type Launched, localLauncher } from "./launcher.js";
import { classifyOutcome } from "./outcome.js";
import { parseLine } from "./parse.js";
import type { RunOptions, RunResult } from "./runner.js";
import { type ClientTool, type ClientToolCall, type ClientToolResult, ToolHost } from "./tool-host.js";
import { perTurnResult } from "./turn-spend.js";
import { type ImageInput, userMessage } from "./user-message.js";

/** How a warm process is started: a run's options without the per-turn parts. */
export type WarmOptions = Omit<RunOptions, "prompt" | "timeoutMs" | "signal" | "onEvent"> & {
  /**
   * The caller's tools, hosted in this process (`ToolHost`): the model sees them and nothing else
   * (the invocation must have the no-tools profile). A turn reports the calls of each message that
   * ends in them (`onToolCalls`) and waits until `supplyToolResults` answers them.
   */
  clientTools?: readonly ClientTool[];
};

/** One turn of a warm process. */
export interface WarmTurn {
  /** The user message's text. */
  prompt: string;
  /** Images the model sees before the text, in the same user message. */
  images?: readonly ImageInput[];
  /** Wall-clock limit of this turn, from writing the message. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Every stdout line of this turn, in order. */
  onEvent?: (event: ParsedLine) => void;
  /**
   * With client tools: the model's message ended in calls of them (all of them, in order); the
   * turn waits, within its timeout, until `supplyToolResults` answers every one.
   */
  onToolCalls?: (calls: ClientToolCall[]) => void;
}

export type WarmState = "idle" | "busy" | "closed";

/**
 * One long-lived `claude -p --input-format stream-json` process: a turn writes one user message
 * and reads until its `result`, so the CLI's start-up is paid once, not per turn.
 */
export interface WarmProcess {
  readonly runId: string;
  readonly pid: number | undefined;
  /** The session every turn of the process records into. */
  readonly sessionId: string | undefined;
  readonly args: readonly string[];
  readonly state: WarmState;
  /** Turns that ended in a result so far. */
  readonly turns: number;
  /** Resolves when the process has exited and what it left is reaped. */
  readonly exited: Promise<LaunchExit>;
  /**
   * `true` once the CLI has started and reads its input (it answered an `initialize` control
   * request, which costs no API request); `false` if it exited first. A turn may be written before:
   * it then waits for the start-up.
   */
  readonly ready: Promise<boolean>;
  /**
   * One turn. Resolves with this turn's result (spend and tokens of this turn alone, although the
   * CLI reports them summed over the process); rejects with a `ClaudeError`. A failed, timed-out or
   * cancelled turn closes the process: its history now holds a turn that did not succeed.
   */
  turn(turn: WarmTurn): Promise<RunResult>;
  /** The model of the next turns (the CLI's `set_model` control request; it asks the API once). */
  setModel(model: string, timeoutMs: number): Promise<void>;
  /** With client tools: the calls reported and not answered yet. */
  pendingToolCalls(): ClientToolCall[];
  /**
   * With client tools: answers the pending calls, every one exactly once, and the turn goes on.
   * Returns why it cannot (ids that are not pending, missing, repeated; no client tools), writing
   * nothing then.
   */
  supplyToolResults(results: readonly ClientToolResult[]): string | undefined;
  /** Stops the process (SIGINT, then TERM and KILL) and kills what it left behind. */
  close(): Promise<void>;
}

/** Starts a warm process; it waits for its first message. Throws `ClaudeNotInstalledError`. */
export function startWarm(opts: WarmOptions): WarmProcess {
  const log = opts.logger ?? silentLogger;
  const runId = randomUUID();
  const bin = opts.bin ?? resolveClaudeBin();
  if (!bin || isPlaceholderBinary(bin)) {
    throw new ClaudeNotInstalledError(
      bin
        ? `${bin} is the placeholder of @anthropic-ai/claude-code: its install script did not run`
        : "the claude binary was not found: install @anthropic-ai/claude-code or set CLAUDE_BIN",
    );
  }
  const host = opts.clientTools ? new ToolHost(opts.clientTools) : undefined;
  const invocation = {
    ...opts.invocation,
    output: "stream-json",
    input: "stream-json",
    // The host knows a message's calls once the message has ended (`message_stop`).
    ...(host ? { clientTools: true, includePartialMessages: true } : {}),
  } as Invocation;
  const built = buildArgv(invocation, { bin, ...(opts.mintId ? { mintId: opts.mintId } : {}) });
  const args = built.args;
  const env = buildChildEnv(opts.sourceEnv ?? process.env, {
    runId,
    ...(opts.passthroughEnv ? { passthrough: opts.passthroughEnv } : {}),
    ...(opts.setEnv ? { set: opts.setEnv } : {}),
  });
  const child: Launched = (opts.launcher ?? localLauncher)(
    {
      file: bin,
      args,
      cwd: opts.cwd,
      env,
      runId,
      ...(opts.runAs ? { runAs: opts.runAs } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    },
    log,
  );
  log.debug({ runId, pid: child.pid }, "warm claude started");

  let state: WarmState = "idle";
  let sessionId = built.sessionId;
  let turns = 0;
  /** What the CLI reported summed over the process, at the end of the last turn. */
  let before: ResultEvent | undefined;
  let lineListener: ((ev: ParsedLine) => void) | undefined;
  let toolCallsListener: ((calls: ClientToolCall[]) => void) | undefined;
  const tailLimit = opts.stderrTailBytes ?? 8192;
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-tailLimit);
  });
  const readyId = randomUUID();
  let markReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => {
    markReady = resolve;
  });
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    const ev = parseLine(line);
    if (!ev) return;
    if (ev.type === "unknown" && isControlResponse(ev.raw, readyId)) return markReady(true);
    if (host && ev.type !== "malformed") {
      const step = host.onLine(ev.type === "unknown" ? ev.raw : (ev as unknown as Record<string, unknown>));
      for (const reply of step.replies) write(reply);
      if (step.calls) toolCallsListener?.(step.calls);
    }
    if (ev.type === "system" && ev.subtype === "init") sessionId = (ev as { session_id: string }).session_id;
    lineListener?.(ev);
  });
  const stdoutClosed = new Promise<void>((resolve) => lines.on("close", () => resolve()));

  let exitInfo: LaunchExit | undefined;
  const exited = (async () => {
    const end = await child.exit;
    exitInfo = end;
    state = "closed";
    await stdoutClosed;
    const leftovers = await child.reap();
    if (leftovers.length) log.warn({ runId, reaped: leftovers }, "killed processes the warm CLI left behind");
    return end;
  })();
  exited.catch(() => {});
  /**
   * What the exit means to the turn or request in progress, if any. One watcher for the process's
   * life: a reaction added per turn would keep every turn's closures (and what its listeners hold,
   * such as an HTTP response) alive for as long as the process runs.
   */
  let onExit: (() => void) | undefined;
  void exited.then(
    () => {
      markReady(false);
      onExit?.();
    },
    () => {
      markReady(false);
      onExit?.();
    },
  );
  child.stdin?.on("error", () => {});

  const write = (message: object) => {
    child.stdin?.write(`${JSON.stringify(message)}\n`);
  };
  // Answered once the CLI reads its input: the pool knows when a process is really ready.
  write({ type: "control_request", request_id: readyId, request: { subtype: "initialize" } });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      state = "closed";
      child.stdin?.end();
      await child.stop();
      await exited;
    })();
    return closing;
  };

  const turn = (t: WarmTurn): Promise<RunResult> => {
    if (state !== "idle") {
      return Promise.reject(
        state === "closed"
          ? new ClaudeCrashedError(
              exitInfo?.exitCode,
              exitInfo?.signal,
              stderrTail,
              "the warm process is gone",
            )
          : new Error(`warm process is ${state}: one turn at a time`),
      );
    }
    if (t.signal?.aborted) return Promise.reject(new ClaudeCancelledError(String(t.signal.reason ?? "")));
    state = "busy";
    const started = Date.now();
    let lastMessageId: string | undefined;
    let lastMessageText = "";
    return new Promise<RunResult>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => RunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        t.signal?.removeEventListener("abort", onAbort);
        lineListener = undefined;
        toolCallsListener = undefined;
        onExit = undefined;
        try {
          const r = outcome();
          state = "idle";
          resolve(r);
        } catch (err) {
          // The history now holds a turn that failed: this process must not serve the next one.
          void close();
          reject(err);
        }
      };
      const failWith = (end: Parameters<typeof classifyOutcome>[0]) => () => {
        const o = classifyOutcome(end);
        if (o.ok) throw new ClaudeCrashedError(end.exitCode, end.signal, stderrTail, "no result");
        throw o.error;
      };
      const timer = setTimeout(() => {
        log.warn({ runId, timeoutMs: t.timeoutMs }, "warm claude turn timed out; stopping the process");
        finish(failWith(base({ timedOut: true })));
      }, t.timeoutMs);
      const onAbort = () => {
        const reason = t.signal?.reason === undefined ? undefined : String(t.signal.reason);
        finish(
          failWith(base({ cancelled: true, ...(reason !== undefined ? { cancelReason: reason } : {}) })),
        );
      };
      t.signal?.addEventListener("abort", onAbort, { once: true });
      function base(
        extra: Partial<Parameters<typeof classifyOutcome>[0]>,
      ): Parameters<typeof classifyOutcome>[0] {
        return {
          exitCode: exitInfo?.exitCode,
          signal: exitInfo?.signal,
          result: undefined,
          stderrTail,
          timedOut: false,
          timeoutMs: t.timeoutMs,
          cancelled: false,
          ...(invocation.session.kind === "resume" ? { resumeId: invocation.session.id } : {}),
          ...(exitInfo?.code !== undefined ? { spawnErrorCode: exitInfo.code } : {}),
          expectStructuredOutput: invocation.jsonSchema !== undefined,
          ...extra,
        };
      }
      lineListener = (ev) => {
        if (ev.type === "assistant" && !(ev as AssistantEvent).parent_tool_use_id) {
          const message = (ev as AssistantEvent).message;
          if (message.id !== lastMessageId) {
            lastMessageId = message.id;
            lastMessageText = "";
          }
          for (const block of message.content) if (block.type === "text") lastMessageText += block.text;
        }
        try {
          t.onEvent?.(ev);
        } catch (err) {
          log.warn({ runId, err }, "warm turn listener failed");
        }
        if (ev.type !== "result") return;
        const total = ev as ResultEvent;
        const own = perTurnResult(total, before);
        finish(() => {
          // A live process that printed a result is, for the classification, one that exited 0.
          const o = classifyOutcome({
            ...base({ exitCode: 0, signal: undefined }),
            result: own,
            ...(lastMessageText !== "" ? { lastMessageText } : {}),
          });
          before = total;
          turns++;
          if (!o.ok) throw o.error;
          return {
            result: o.result,
            text: o.text ?? o.result.result ?? "",
            sessionId: o.result.session_id,
            costUsd: o.result.total_cost_usd,
            wallMs: Date.now() - started,
            malformed: [],
            ...(o.budgetCapReached ? { budgetCapReached: true } : {}),
          };
        });
      };
      onExit = () => finish(failWith(base({})));
      toolCallsListener = t.onToolCalls;
      write(userMessage(t.prompt, t.images));
    });
  };

  const setModel = (model: string, timeoutMs: number): Promise<void> => {
    if (state !== "idle") return Promise.reject(new Error(`warm process is ${state}`));
    state = "busy";
    const requestId = randomUUID();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`set_model got no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (err?: Error) => {
        clearTimeout(timer);
        lineListener = undefined;
        onExit = undefined;
        if (err) {
          void close();
          reject(err);
        } else {
          state = "idle";
          resolve();
        }
      };
      lineListener = (ev) => {
        // Control responses are not among the parsed events: they come as `unknown` with the raw line.
        if (ev.type !== "unknown") return;
        const line = ev.raw as {
          type?: unknown;
          response?: { request_id?: string; subtype?: string; error?: string };
        };
        const r = line.response;
        if (line.type !== "control_response" || r?.request_id !== requestId) return;
        done(r.subtype === "success" ? undefined : new Error(`set_model refused: ${r.error ?? r.subtype}`));
      };
      onExit = () => done(new Error("the warm process exited"));
      write({ type: "control_request", request_id: requestId, request: { subtype: "set_model", model } });
    });
  };

  return {
    runId,
    pid: child.pid,
    get sessionId() {
      return sessionId;
    },
    args,
    get state() {
      return state;
    },
    get turns() {
      return turns;
    },
    exited,
    ready,
    turn,
    setModel,
    pendingToolCalls: () => host?.pendingCalls() ?? [],
    supplyToolResults: (results) => {
      if (!host) return "this process hosts no client tools";
      const problem = host.resultsProblem(results);
      if (problem === undefined) for (const line of host.supply(results)) write(line);
      return problem;
    },
    close,
  };
}

/** A `control_response` line answering `requestId`. */
function isControlResponse(raw: unknown, requestId: string): boolean {
  const line = raw as { type?: unknown; response?: { request_id?: unknown } } | null;
  return line?.type === "control_response" && line.response?.request_id === requestId;
}
