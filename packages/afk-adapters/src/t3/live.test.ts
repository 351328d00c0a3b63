import { threadLiveness } from "@claude-gateway/afk-core";
import { describe, expect, it } from "vitest";
import { createT3Client } from "./client.js";

/**
 * Opt-in: the same calls against a real T3 Code server. Set T3_LIVE_URL, T3_LIVE_TOKEN (a token with
 * both orchestration scopes: `t3 auth session issue --token-only`) and T3_LIVE_WORKSPACE (an existing
 * directory on that server). It creates a project if none has that root, one thread and one short
 * turn, then archives the thread.
 */
const live = process.env.T3_LIVE_URL;

describe("T3 live smoke test", () => {
  it.skipIf(!live)("dispatches a run the real server accepts, and reads it back", async () => {
    const client = createT3Client({
      baseUrl: live!.replace(/\/+$/, ""),
      token: process.env.T3_LIVE_TOKEN ?? "",
      fetch,
      timeoutMs: 30_000,
    });
    const started = await client.startRun({
      workspaceRoot: process.env.T3_LIVE_WORKSPACE ?? "/tmp",
      projectTitle: "afk live smoke test",
      threadTitle: "[afk] live smoke test",
      prompt: "Reply with the single word: pong. Do not run any tool.",
      model: { instanceId: "claudeAgent", model: process.env.T3_LIVE_MODEL ?? "claude-sonnet-4-6" },
    });
    const thread = await client.readThread(started.threadId);
    expect(thread).not.toBeNull();
    expect(thread?.projectId).toBe(started.projectId);
    expect(["running", "idle", "failed"]).toContain(threadLiveness(thread!, started.turn).state);
    if (thread?.messages) expect(thread.messages.some((m) => m.id === started.turn.messageId)).toBe(true);
    await client.dispatch({
      type: "thread.archive",
      commandId: crypto.randomUUID(),
      threadId: started.threadId,
    });
  });
});
