import { describe, expect, it } from "vitest";
import type { ResultEvent } from "./events.js";
import { classifyOutcome, type ProcessEnd } from "./outcome.js";

const res = (over: Partial<ResultEvent> = {}): ResultEvent => ({
  type: "result",
  subtype: "success",
  is_error: false,
  api_error_status: null,
  duration_ms: 1,
  num_turns: 1,
  result: "ok",
  session_id: "s",
  total_cost_usd: 0.5,
  usage: { input_tokens: 1, output_tokens: 1 },
  modelUsage: {},
  permission_denials: [],
  ...over,
});
const end = (over: Partial<ProcessEnd> = {}): ProcessEnd => ({
  exitCode: 0,
  signal: undefined,
  result: res(),
  stderrTail: "",
  timedOut: false,
  cancelled: false,
  ...over,
});
const apiFail = (status: number | null, text: string) =>
  end({
    exitCode: 1,
    result: res({ is_error: true, api_error_status: status, result: text, total_cost_usd: 0 }),
  });

describe("classifyOutcome", () => {
  it("success needs is_error false, subtype success and exit 0", () => {
    expect(classifyOutcome(end())).toMatchObject({ ok: true, result: { result: "ok" } });
  });

  it.each<[string, ProcessEnd, string, Record<string, unknown>?]>([
    [
      "API 401",
      apiFail(401, "Failed to authenticate. API Error: 401 invalid x-api-key"),
      "claude_not_authenticated",
      { apiStatus: 401, status: 503 },
    ],
    ["API 403", apiFail(403, "API Error: 403"), "claude_not_authenticated"],
    [
      "not logged in",
      apiFail(null, "Not logged in · Please run /login"),
      "claude_not_authenticated",
      { apiStatus: null },
    ],
    [
      "API 429",
      apiFail(429, "API Error: Request rejected (429)"),
      "upstream_error",
      { apiStatus: 429, kind: "rate_limited", retryable: true },
    ],
    [
      "API 500",
      apiFail(500, "API Error: 500 boom"),
      "upstream_error",
      { apiStatus: 500, kind: "server_error" },
    ],
    [
      "API 529",
      apiFail(529, "API Error: 529 Overloaded"),
      "upstream_error",
      { apiStatus: 529, kind: "overloaded" },
    ],
    [
      "API 400",
      apiFail(400, "API Error: 400 bad model"),
      "upstream_error",
      { kind: "client_error", retryable: false },
    ],
    [
      "prompt too long (the API's 400, as the CLI 2.1.332 reports it)",
      end({
        exitCode: 1,
        result: res({
          is_error: true,
          api_error_status: 400,
          terminal_reason: "prompt_too_long",
          stop_reason: "stop_sequence",
          result:
            "Prompt is too long · the request is ~250000 tokens (limit 200000) but this conversation is only ~258 tokens",
          total_cost_usd: 0,
        }),
      }),
      "prompt_too_long",
      { status: 400, retryable: false },
    ],
    [
      "prompt too long (the API's message, no terminal reason)",
      apiFail(400, "API Error: 400 prompt is too long: 250000 tokens > 200000 maximum"),
      "prompt_too_long",
    ],
    [
      "prompt too long (the CLI's own check before any request, 2.1.332)",
      end({
        exitCode: 1,
        result: res({
          is_error: true,
          api_error_status: null,
          terminal_reason: "blocking_limit",
          stop_reason: "stop_sequence",
          result: "Prompt is too long",
        }),
      }),
      "prompt_too_long",
    ],
    [
      "connection error",
      apiFail(null, "API Error: Connection error."),
      "upstream_error",
      { kind: "connection" },
    ],
    [
      "resume unknown (stream-json result)",
      end({
        exitCode: 1,
        result: res({
          subtype: "error_during_execution",
          is_error: true,
          result: undefined,
          errors: ["No conversation found with session ID: abc"],
        }),
        resumeId: "abc",
      }),
      "session_not_found",
      { sessionId: "abc" },
    ],
    [
      "resume unknown (json: stderr only)",
      end({
        exitCode: 1,
        result: undefined,
        stderrTail: "No conversation found with session ID: abc\n",
        resumeId: "abc",
      }),
      "session_not_found",
    ],
    [
      "budget",
      end({
        exitCode: 1,
        result: res({ subtype: "error_max_budget_usd", is_error: true, result: undefined }),
      }),
      "budget_exceeded",
    ],
    [
      "structured output asked for, prose given (the CLI says success)",
      end({ expectStructuredOutput: true, result: res({ result: "just prose" }) }),
      "structured_output_missing",
      { retryable: true },
    ],
    [
      "structured output retries exhausted",
      end({
        exitCode: 1,
        result: res({ subtype: "error_max_structured_output_retries", is_error: true, result: undefined }),
      }),
      "structured_output_missing",
    ],
    [
      "an argument the CLI refuses (invalid --json-schema, 2.1.332)",
      end({
        exitCode: 1,
        result: undefined,
        stderrTail:
          "Error: --json-schema is not a valid JSON Schema: data/type must be equal to one of the allowed values\n",
      }),
      "invalid_request",
      {
        status: 400,
        retryable: false,
        message:
          "--json-schema is not a valid JSON Schema: data/type must be equal to one of the allowed values",
      },
    ],
    [
      "an unrelated 'Error:' line is still a crash",
      end({ exitCode: 1, result: undefined, stderrTail: "Error: something broke\n" }),
      "crashed",
    ],
    [
      "max turns",
      end({ exitCode: 1, result: res({ subtype: "error_max_turns", is_error: true }) }),
      "max_turns",
    ],
    [
      "execution error",
      end({ exitCode: 1, result: res({ subtype: "error_during_execution", is_error: true, errors: ["x"] }) }),
      "execution_error",
    ],
    [
      "other is_error",
      end({ exitCode: 1, result: res({ is_error: true, result: "something odd" }) }),
      "execution_error",
    ],
    ["result ok but exit 1", end({ exitCode: 1 }), "crashed"],
    [
      "no result, exit 1",
      end({ exitCode: 1, result: undefined, stderrTail: "segfault\n" }),
      "crashed",
      { exitCode: 1 },
    ],
    [
      "killed by a signal",
      end({ exitCode: undefined, signal: "SIGKILL", result: undefined }),
      "crashed",
      { signal: "SIGKILL" },
    ],
    [
      "auth on stderr",
      end({ exitCode: 1, result: undefined, stderrTail: "Invalid API key · Please run /login" }),
      "claude_not_authenticated",
    ],
    [
      "spawn ENOENT",
      end({ exitCode: undefined, result: undefined, spawnErrorCode: "ENOENT" }),
      "claude_not_installed",
    ],
    [
      "placeholder binary",
      end({ exitCode: 1, result: undefined, stderrTail: "claude native binary not installed" }),
      "claude_not_installed",
    ],
    [
      "timeout wins over the printed result",
      end({
        timedOut: true,
        timeoutMs: 5000,
        result: res({ subtype: "error_during_execution", is_error: true }),
      }),
      "timeout",
      { timeoutMs: 5000 },
    ],
    [
      "cancel wins over the printed result",
      end({ cancelled: true, cancelReason: "client left" }),
      "cancelled",
    ],
  ])("%s ⇒ %s", (_name, input, code, props) => {
    const out = classifyOutcome(input);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe(code);
    if (props) expect(out.error).toMatchObject(props);
  });

  it("the budget reached by the message that finished the reply ⇒ the reply is kept (stream-json)", () => {
    const capped = (over: Partial<ProcessEnd>, stop: string) =>
      end({
        exitCode: 1,
        result: res({
          subtype: "error_max_budget_usd",
          is_error: true,
          result: undefined,
          stop_reason: stop,
          total_cost_usd: 0.02,
        }),
        ...over,
      });
    expect(classifyOutcome(capped({ lastMessageText: "Sofia." }, "end_turn"))).toMatchObject({
      ok: true,
      text: "Sofia.",
      budgetCapReached: true,
      result: { total_cost_usd: 0.02 },
    });
    // A reply cut short (a tool call pending) or with nothing said stays a budget failure.
    expect(classifyOutcome(capped({ lastMessageText: "Let me check." }, "tool_use"))).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded" },
    });
    expect(classifyOutcome(capped({}, "end_turn"))).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded" },
    });
    expect(classifyOutcome(capped({ lastMessageText: "  " }, "end_turn")).ok).toBe(false);
  });

  it("structured output present ⇒ success", () => {
    const out = classifyOutcome(
      end({ expectStructuredOutput: true, result: res({ structured_output: { city: "Sofia" } }) }),
    );
    expect(out).toMatchObject({ ok: true, result: { structured_output: { city: "Sofia" } } });
  });

  it("keeps the result and the stderr tail on the error, so cost still counts", () => {
    const out = classifyOutcome(
      end({
        exitCode: 1,
        stderrTail: "warn\n",
        result: res({ subtype: "error_max_budget_usd", is_error: true, total_cost_usd: 2.01 }),
      }),
    );
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.result?.total_cost_usd).toBe(2.01);
      expect(out.error.stderrTail).toBe("warn\n");
    }
  });

  it("a crash message names the exit code and the stderr tail; its client-facing detail only the first", () => {
    const out = classifyOutcome(end({ exitCode: 3, result: undefined, stderrTail: "a\nb\nc\nd\n" }));
    expect(!out.ok && out.error.message).toBe("claude crashed (exit code 3); stderr: b | c | d");
    expect(!out.ok && out.error.detail).toBe("claude crashed (exit code 3)");
    expect(!out.ok && out.error.status).toBe(503);
    expect(!out.ok && out.error.name).toBe("ClaudeCrashedError");
  });
});
