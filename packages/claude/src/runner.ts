import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { type Logger, silentLogger } from "@claude-gateway/service-kit/log";
import { buildArgv } from "./argv.js";
import { isPlaceholderBinary, resolveClaudeBin } from "./bin.js";
import { buildChildEnv } from "./child-env.js";
import { ClaudeCancelledError, type ClaudeError, ClaudeNotInstalledError } from "./errors.js";
import type { AssistantEvent, MalformedLine, ParsedLine, ResultEvent } from "./events.js";
import type { Invocation } from "./invocation.js";
import { type Launcher, localLauncher } from "./launcher.js";
import { classifyOutcome } from "./outcome.js";
import { parseJsonOutput, parseLine } from "./parse.js";
import { type ImageInput, userMessageInput } from "./user-message.js";

export interface RunOptions {
  invocation: Invocation;
  /** Sent on stdin, never in argv. */
  prompt: string;
  /**
   * Images the model sees before the prompt, in one user message: the run then takes its input as
   * stream-json (`--input-format stream-json`, which needs output `stream-json`).
   */
  images?: readonly ImageInput[];
  cwd: string;
  /** Wall-clock deadline for the whole run, from spawn. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Defaults to `resolveClaudeBin()`. */
  bin?: string;
  /** The environment the child's variables are picked from (default `process.env`). */
  sourceEnv?: Readonly<Record<string, string | undefined>>;
  /** Extra variable names to copy from `sourceEnv`. */
  passthroughEnv?: readonly string[];
  /** Variables set verbatim in the child (e.g. a per-job `HOME`). */
  setEnv?: Readonly<Record<string, string>>;
  /** How long SIGINT gets to stop the CLI and its tools before SIGTERM, then SIGKILL. */
  killGraceMs?: number;
  /**
   * Run the CLI as this unprivileged user (the caller must be root). The uid must belong to this
   * run alone: when the run ends, every process left running as it is killed.
   */
  runAs?: { uid: number; gid: number };
  /** Where the CLI is started: here (default), or by a runner across a socket. */
  launcher?: Launcher;
  stderrTailBytes?: number;
  logger?: Logger;
  /** Called for every stream-json line, in order (also for unknown and malformed lines). */
  onEvent?: (event: ParsedLine) => void;
  mintId?: () => string;
}

export interface RunResult {
  result: ResultEvent;
  /** The final text (`result.result`). */
  text: string;
  sessionId: string;
  costUsd: number;
  /** Wall time from spawn to exit, measured by us. */
  wallMs: number;
  malformed: MalformedLine[];
  /**
   * The reply finished with the message that took the run past `--max-budget-usd` (the CLI says
   * `error_max_budget_usd`; the answer is whole and paid for, so it is kept).
   */
  budgetCapReached?: boolean;
}

export interface ClaudeRun {
  readonly runId: string;
  readonly pid: number | undefined;
  /** The session the run records into (undefined for ephemeral runs until the CLI says). */
  readonly sessionId: string | undefined;
  readonly args: readonly string[];
  /** Resolves with the result; rejects with a `ClaudeError`. */
  readonly done: Promise<RunResult>;
  cancel(reason?: string): void;
}

const MAX_JSON_OUTPUT = 64 * 1024 * 1024;

/** Spawns `claude -p`, streams its output, owns its deadline, and leaves no process behind. */
export function runClaude(opts: RunOptions): ClaudeRun {
  const log = opts.logger ?? silentLogger;
  const runId = randomUUID();
  const bin = opts.bin ?? resolveClaudeBin();
  // Content blocks need a JSON user message on stdin; the prompt alone goes as plain text.
  const invocation: Invocation = opts.images?.length
    ? { ...opts.invocation, input: "stream-json" }
    : opts.invocation;
  const built = buildArgv(invocation, {
    bin: bin ?? "claude",
    ...(opts.mintId ? { mintId: opts.mintId } : {}),
  });

  if (!bin || isPlaceholderBinary(bin)) {
    const error = new ClaudeNotInstalledError(
      bin
        ? `${bin} is the placeholder of @anthropic-ai/claude-code: its install script did not run (pnpm: list it in onlyBuiltDependencies)`
        : "the claude binary was not found: install @anthropic-ai/claude-code or set CLAUDE_BIN",
    );
    return failedRun(runId, built.sessionId, built.args, error);
  }
  if (opts.signal?.aborted) {
    return failedRun(
      runId,
      built.sessionId,
      built.args,
      new ClaudeCancelledError(String(opts.signal.reason ?? "")),
    );
  }

  const env = buildChildEnv(opts.sourceEnv ?? process.env, {
    runId,
    ...(opts.passthroughEnv ? { passthrough: opts.passthroughEnv } : {}),
    ...(opts.setEnv ? { set: opts.setEnv } : {}),
  });
  const started = Date.now();
  const child = (opts.launcher ?? localLauncher)(
    {
      file: bin,
      args: built.args,
      cwd: opts.cwd,
      env,
      input: invocation.input === "stream-json" ? userMessageInput(opts.prompt, opts.images) : opts.prompt,
      runId,
      ...(opts.runAs ? { runAs: opts.runAs } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    },
    log,
  );
  const pid = child.pid;
  log.debug({ runId, pid, args: redactArgs(built.args), cwd: opts.cwd }, "claude started");

  let sessionId = built.sessionId;
  let result: ResultEvent | undefined;
  let jsonOutput = "";
  let outputProblem: string | undefined;
  const malformed: MalformedLine[] = [];
  let lastMessageId: string | undefined;
  let lastMessageText = "";
  const tailLimit = opts.stderrTailBytes ?? 8192;
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-tailLimit);
  });

  const stdoutDone = new Promise<void>((resolve) => {
    if (!child.stdout) return resolve();
    if (opts.invocation.output === "json") {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        if (jsonOutput.length < MAX_JSON_OUTPUT) jsonOutput += chunk;
      });
      child.stdout.on("end", () => resolve());
      child.stdout.on("error", () => resolve());
      return;
    }
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      const ev = parseLine(line);
      if (!ev) return;
      if (ev.type === "malformed") {
        malformed.push(ev);
        log.warn({ runId, reason: ev.reason }, "malformed line from claude");
      } else if (ev.type === "system" && ev.subtype === "init") {
        sessionId = (ev as { session_id: string }).session_id;
      } else if (ev.type === "result") {
        result = ev as ResultEvent;
      } else if (ev.type === "assistant" && !(ev as AssistantEvent).parent_tool_use_id) {
        // One line per content block; the blocks of one API message share its id.
        const message = (ev as AssistantEvent).message;
        if (message.id !== lastMessageId) {
          lastMessageId = message.id;
          lastMessageText = "";
        }
        for (const block of message.content) if (block.type === "text") lastMessageText += block.text;
      }
      opts.onEvent?.(ev);
    });
    lines.on("close", () => resolve());
  });

  let timedOut = false;
  let cancelled = false;
  let cancelReason: string | undefined;
  let exited = false;
  const exit = child.exit.then((r) => {
    exited = true;
    return r;
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping = child.stop();
    return stopping;
  };

  const timer = setTimeout(() => {
    timedOut = true;
    log.warn({ runId, timeoutMs: opts.timeoutMs }, "claude run timed out; stopping it");
    void stop();
  }, opts.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    cancelReason = opts.signal?.reason === undefined ? undefined : String(opts.signal.reason);
    void stop();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const done = (async (): Promise<RunResult> => {
    const end = await exit;
    await stdoutDone;
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    if (stopping) await stopping;
    // Background processes a tool started (`cmd &`) outlive a normal exit too.
    const leftovers = await child.reap();
    if (leftovers.length) log.warn({ runId, reaped: leftovers }, "killed processes the run left behind");

    if (opts.invocation.output === "json" && !timedOut && !cancelled) {
      const parsed = parseJsonOutput(jsonOutput);
      if (parsed.type === "result") result = parsed;
      else if (jsonOutput.trim() !== "") outputProblem = parsed.reason;
    }
    const outcome = classifyOutcome({
      exitCode: end.exitCode,
      signal: end.signal,
      result,
      stderrTail,
      timedOut,
      timeoutMs: opts.timeoutMs,
      cancelled,
      ...(cancelReason !== undefined ? { cancelReason } : {}),
      ...(end.code !== undefined ? { spawnErrorCode: end.code } : {}),
      ...(opts.invocation.session.kind === "resume" ? { resumeId: opts.invocation.session.id } : {}),
      ...(outputProblem !== undefined ? { outputProblem } : {}),
      expectStructuredOutput: opts.invocation.jsonSchema !== undefined,
      ...(lastMessageText !== "" ? { lastMessageText } : {}),
    });
    const wallMs = Date.now() - started;
    if (!outcome.ok) {
      log.info({ runId, code: outcome.error.code, wallMs, exitCode: end.exitCode }, "claude run failed");
      throw outcome.error;
    }
    const r = outcome.result;
    log.debug({ runId, wallMs, costUsd: r.total_cost_usd, sessionId: r.session_id }, "claude run finished");
    if (outcome.budgetCapReached) {
      log.info(
        { runId, costUsd: r.total_cost_usd },
        "the reply finished as the run reached its budget: kept",
      );
    }
    return {
      result: r,
      text: outcome.text ?? r.result ?? "",
      sessionId: r.session_id,
      costUsd: r.total_cost_usd,
      wallMs,
      malformed,
      ...(outcome.budgetCapReached ? { budgetCapReached: true } : {}),
    };
  })();
  // Callers that only watch events must not see an unhandled rejection.
  done.catch(() => {});

  return {
    runId,
    pid,
    get sessionId() {
      return sessionId;
    },
    args: built.args,
    done,
    cancel: (reason?: string) => {
      if (exited) return;
      cancelled = true;
      cancelReason = reason;
      void stop();
    },
  };
}

function failedRun(
  runId: string,
  sessionId: string | undefined,
  args: readonly string[],
  error: ClaudeError,
): ClaudeRun {
  const done = Promise.reject(error);
  done.catch(() => {});
  return { runId, pid: undefined, sessionId, args, done, cancel: () => {} };
}

/** Argument values can hold system prompts; logs get their length, not their text. */
function redactArgs(args: readonly string[]): string[] {
  const long = new Set(["--system-prompt", "--append-system-prompt", "--agents", "--json-schema"]);
  return args.map((a, i) => (i > 0 && long.has(args[i - 1]!) ? `<${a.length} chars>` : a));
}
