import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { apiError, DEFERRED_TOOL_PLACEHOLDER, text, toolUse } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { describe, expect, it } from "vitest";
import {
  ClaudeApiError,
  ClaudeBudgetExceededError,
  type Invocation,
  type ParsedLine,
  type RunOptions,
  runClaude,
} from "../src/index.js";

// What the pinned CLI puts on the wire and how it ends, for the facts the code relies on: the
// model allowlist, budgets, the CLI's own retries, and the tools it offers.
const world = useClaudeWorld({ workPrefix: "cg-facts-" });

const noTools: Invocation = { profile: { kind: "no-tools" }, session: { kind: "ephemeral" }, output: "json" };
const run = (over: Partial<RunOptions> & { invocation?: Invocation } = {}) =>
  runClaude({
    invocation: noTools,
    prompt: "hello",
    cwd: world.work.dir,
    timeoutMs: 60_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...over,
  });

describe("models on the wire", () => {
  it("every alias resolves to an id the default allowlist holds; full ids and unknown names go verbatim", async () => {
    const sent: Record<string, string | undefined> = {};
    for (const model of ["haiku", "sonnet", "opus", "fable", "claude-sonnet-4-6", "no-such-model"]) {
      world.stub.reset();
      await run({ invocation: { ...noTools, model } }).done;
      sent[model] = world.stub.turnRequests()[0]?.body.model;
    }
    expect(sent["claude-sonnet-4-6"]).toBe("claude-sonnet-4-6");
    // The CLI checks nothing: the allowlist is ours to enforce before a process starts.
    expect(sent["no-such-model"]).toBe("no-such-model");
    for (const alias of ["haiku", "sonnet", "opus", "fable"]) {
      expect(DEFAULT_SUPPORTED_MODELS, `${alias} → ${sent[alias]}`).toContain(sent[alias]);
    }
  });
});

describe("limits and the CLI's own retries", () => {
  it("--max-budget-usd: a turn that costs more ends as budget_exceeded, with its cost", async () => {
    world.stub.enqueue(
      toolUse("Bash", { command: "echo hi", description: "x" }, { usage: { output_tokens: 200_000 } }),
      text("never reached"),
    );
    const err = await run({
      invocation: {
        profile: { kind: "tools" },
        session: { kind: "ephemeral" },
        output: "json",
        model: "claude-sonnet-4-6",
        maxBudgetUsd: 0.01,
      },
    }).done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClaudeBudgetExceededError);
    const result = (err as ClaudeBudgetExceededError).result;
    expect(result?.subtype).toBe("error_max_budget_usd");
    expect(result?.total_cost_usd).toBeGreaterThan(0.01);
    expect(world.stub.turnRequests()).toHaveLength(1);
  });

  it("a reply whose one message costs more than the budget: the CLI says error_max_budget_usd, the runner keeps the whole reply", async () => {
    world.stub.enqueue(text("Sofia is the capital.", { usage: { output_tokens: 200_000 } }));
    const out = await run({
      invocation: { ...noTools, output: "stream-json", model: "claude-sonnet-4-6", maxBudgetUsd: 0.01 },
    }).done;
    expect(out.result.subtype).toBe("error_max_budget_usd");
    expect(out.result.stop_reason).toBe("end_turn");
    expect(out.text).toBe("Sofia is the capital.");
    expect(out.budgetCapReached).toBe(true);
    expect(out.costUsd).toBeGreaterThan(0.01);
  });

  it.each([429, 500, 529])(
    "API %i with CLAUDE_CODE_MAX_RETRIES=2: three requests, two api_retry lines, then upstream_error",
    async (status) => {
      world.stub.setDefault(apiError(status));
      const events: ParsedLine[] = [];
      const err = await run({
        invocation: { ...noTools, output: "stream-json" },
        sourceEnv: { ...world.cli.env, CLAUDE_CODE_MAX_RETRIES: "2" },
        onEvent: (e) => events.push(e),
      }).done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClaudeApiError);
      expect((err as ClaudeApiError).apiStatus).toBe(status);
      expect(world.stub.turnRequests()).toHaveLength(3);
      const retries = events.filter((e) => e.type === "system" && e.subtype === "api_retry");
      expect(retries.map((e) => (e as { error_status?: number }).error_status)).toEqual([status, status]);
      expect(events.filter((e) => e.type === "malformed")).toEqual([]);
    },
  );
});

describe("tools offered", () => {
  it('`--tools ""` offers nothing at all, not even the deferred placeholder', async () => {
    await run().done;
    expect(world.stub.turnRequests()[0]?.body.tools ?? []).toEqual([]);
  });

  it("the deferred placeholder the CLI adds beside real tools is inert: a call to it runs nothing", async () => {
    const marker = join(world.work.dir, "pwned");
    world.stub.enqueue(toolUse(DEFERRED_TOOL_PLACEHOLDER, { command: `touch ${marker}` }), text("done"));
    const events: ParsedLine[] = [];
    await run({
      invocation: {
        profile: { kind: "tools" },
        session: { kind: "ephemeral" },
        output: "stream-json",
        tools: ["Read"],
      },
      onEvent: (e) => events.push(e),
    }).done;
    const offered = world.stub.turnRequests()[0]?.body.tools ?? [];
    expect(offered.map((t) => t.name).sort()).toEqual([DEFERRED_TOOL_PLACEHOLDER, "Read"]);
    expect(offered.find((t) => t.name === DEFERRED_TOOL_PLACEHOLDER)).toMatchObject({
      defer_loading: true,
      input_schema: { type: "object", properties: {} },
    });
    const toolResult = JSON.stringify(events.filter((e) => e.type === "user"));
    expect(toolResult).toContain("No such tool available");
    expect(existsSync(marker)).toBe(false);
  });
});
