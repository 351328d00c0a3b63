import { threadLiveness } from "@claude-gateway/afk-core";
import { afterEach, describe, expect, it } from "vitest";
import { AdapterPreconditionError, UpstreamHttpError } from "../errors.js";
import { type FakeT3, type FakeT3Version, startFakeT3 } from "../testing/fake-t3.js";
import { baselineTurnId, createT3Client } from "./client.js";

let fake: FakeT3;
afterEach(async () => fake?.close());

function client(over: { token?: string } = {}) {
  let n = 0;
  return createT3Client({
    baseUrl: fake.url,
    token: over.token ?? fake.token,
    fetch,
    timeoutMs: 5000,
    newId: () => `id-${++n}`,
  });
}

const run = {
  workspaceRoot: "/srv/src/acme/app/",
  projectTitle: "acme/app",
  threadTitle: "[afk] acme/app#1: fix it",
  prompt: "Do the work.",
  model: { instanceId: "claudeAgent", model: "claude-sonnet-4-6" },
};

describe.each<FakeT3Version>(["v0.0.27", "v0.0.32"])("T3 client against the fake server (%s)", (version) => {
  it("ensures the project, creates a full-access thread, starts the turn; returns the ids it minted", async () => {
    fake = await startFakeT3({ version });
    const started = await client().startRun(run);
    expect(fake.commands.map((c) => c.type)).toEqual([
      "project.create",
      "thread.create",
      "thread.turn.start",
    ]);
    const [p, t, u] = fake.commands;
    expect(p).toMatchObject({ projectId: started.projectId, workspaceRoot: "/srv/src/acme/app" });
    expect(t).toMatchObject({
      threadId: started.threadId,
      projectId: started.projectId,
      runtimeMode: "full-access",
      branch: null,
      worktreePath: null,
      modelSelection: { instanceId: "claudeAgent", model: "claude-sonnet-4-6" },
    });
    expect(u).toMatchObject({
      threadId: started.threadId,
      message: { messageId: started.turn.messageId, role: "user", text: "Do the work.", attachments: [] },
      createdAt: started.turn.sentAt,
    });
    expect(started).toMatchObject({ projectCreated: true, turn: { baselineTurnId: null } });
    expect(started.commandIds).toEqual([t?.commandId, u?.commandId]);
    expect(fake.rejections).toEqual([]);
  });

  it("reuses the live project of the same checkout, and never a deleted one", async () => {
    fake = await startFakeT3({ version });
    fake.seedProject({
      id: "old",
      workspaceRoot: "/srv/src/acme/app",
      deletedAt: "2026-01-01T00:00:00.000Z",
    });
    const first = await client().startRun(run);
    expect(first.projectCreated).toBe(true);
    expect(first.projectId).not.toBe("old");
    const second = await createT3Client({
      baseUrl: fake.url,
      token: fake.token,
      fetch,
      timeoutMs: 5000,
    }).startRun(run);
    expect(second).toMatchObject({ projectId: first.projectId, projectCreated: false });
    expect(fake.commands.filter((c) => c.type === "project.create")).toHaveLength(1);
  });

  it("reads the thread with its messages, and liveness follows the contract through the quirk", async () => {
    fake = await startFakeT3({ version });
    const c = client();
    const started = await c.startRun(run);
    const live = async () => threadLiveness((await c.readThread(started.threadId))!, started.turn).state;
    expect(await live()).toBe("running");
    const agent = fake.agent(started.threadId);
    agent.startTurn();
    expect(await live()).toBe("running");
    agent.say("PHASE: tests-red");
    agent.finishTurn();
    // latestTurn is null now (quirk): the session and our answer say idle.
    expect((await c.readThread(started.threadId))?.latestTurn).toBeNull();
    expect(await live()).toBe("idle");
    const thread = await c.readThread(started.threadId);
    expect(thread?.messages?.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("sendTurn continues the thread with another thread.turn.start and a baseline", async () => {
    fake = await startFakeT3({ version });
    const c = client();
    const started = await c.startRun(run);
    const agent = fake.agent(started.threadId);
    agent.startTurn();
    const firstTurn = fake.thread(started.threadId).latestTurn?.turnId;
    agent.say("PUSHED abcdef1");
    agent.finishTurn();
    // No checkpoint yet: latestTurn is null, the baseline comes from the messages.
    const sent = await c.sendTurn(started.threadId, "CI failed, fix it");
    expect(sent.baselineTurnId).toBe(firstTurn);
    expect(fake.commands.at(-1)).toMatchObject({ type: "thread.turn.start", threadId: started.threadId });
    // The old turn reappearing with its checkpoint must not read as our turn being done.
    agent.checkpoint();
    expect(threadLiveness((await c.readThread(started.threadId))!, sent).state).toBe("running");
    agent.startTurn();
    agent.say("PUSHED 1234567");
    agent.finishTurn();
    expect(threadLiveness((await c.readThread(started.threadId))!, sent).state).toBe("idle");
  });

  it("a missing thread reads as null, and a turn on it is refused before dispatch", async () => {
    fake = await startFakeT3({ version });
    const c = client();
    expect(await c.readThread("nope")).toBeNull();
    await expect(c.sendTurn("nope", "x")).rejects.toBeInstanceOf(AdapterPreconditionError);
    expect(fake.commands).toEqual([]);
  });
});

describe("T3 client errors", () => {
  it("a bad token is an UpstreamHttpError with the server's code", async () => {
    fake = await startFakeT3();
    const err = await client({ token: "wrong" })
      .startRun(run)
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status: 401 });
    expect(err.body).toContain("auth_invalid");
  });

  it("refuses to send a command the contract forbids (parse before send)", async () => {
    fake = await startFakeT3();
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed
    await expect(client().dispatch({ type: "thread.create", threadId: "x" } as any)).rejects.toThrow();
    expect(fake.requests.filter((r) => r.path.endsWith("/dispatch"))).toEqual([]);
  });
});

describe("baselineTurnId", () => {
  const m = (turnId: string | null, createdAt: string) => ({
    id: createdAt,
    role: "assistant" as const,
    text: "",
    turnId,
    streaming: false,
    createdAt,
    updatedAt: createdAt,
  });
  const base = { id: "t", projectId: "p", session: null, activities: [], archivedAt: null, deletedAt: null };
  it.each([
    [
      "latestTurn wins",
      {
        latestTurn: {
          turnId: "turn-9",
          state: "completed" as const,
          requestedAt: "2026-01-01T00:00:00Z",
          startedAt: null,
          completedAt: null,
          assistantMessageId: null,
        },
        messages: [],
      },
      "turn-9",
    ],
    [
      "else the newest message's turn",
      {
        latestTurn: null,
        messages: [
          m("turn-2", "2026-01-01T00:00:02Z"),
          m("turn-1", "2026-01-01T00:00:01Z"),
          m(null, "2026-01-01T00:00:03Z"),
        ],
      },
      "turn-2",
    ],
    ["else null", { latestTurn: null, messages: [] }, null],
  ])("%s", (_, over, expected) => {
    expect(baselineTurnId({ ...base, ...over })).toBe(expected);
  });
});
