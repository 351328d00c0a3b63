import { describe, expect, it } from "vitest";
import { createServiceMetrics } from "./metrics.js";

describe("recordSpend", () => {
  it("counts cost and tokens per caller and model", async () => {
    const m = createServiceMetrics();
    const usage = { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 5, cacheCreationInputTokens: 0 };
    m.recordSpend("alice", [{ model: "claude-haiku-4-5", costUsd: 0.25, usage }]);
    m.recordSpend("alice", [{ model: "claude-haiku-4-5", costUsd: 0.5, usage }]);
    const text = await m.registry.metrics();
    expect(text).toContain('claude_cost_usd_total{caller="alice",model="claude-haiku-4-5"} 0.75');
    expect(text).toContain('claude_tokens_total{caller="alice",model="claude-haiku-4-5",kind="input"} 20');
    expect(text).toContain(
      'claude_tokens_total{caller="alice",model="claude-haiku-4-5",kind="cache_read"} 10',
    );
  });
});
