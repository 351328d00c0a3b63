import { afterEach, describe, expect, it } from "vitest";
import { ReadModel, ThreadDetail } from "../t3/schemas.js";
import { type FakeT3, startFakeT3 } from "./fake-t3.js";

const AT = "2026-03-02T10:00:00.000Z";
let fake: FakeT3;
afterEach(async () => fake?.close());

async function post(body: unknown, token: string | null = fake.token, raw = false) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${fake.url}/api/orchestration/dispatch`, {
    method: "POST",
    headers,
    body: raw ? (body as string) : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are checked field by field
  return { status: res.status, body: (await res.json()) as any };
}

async function get(path: string) {
  const res = await fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${fake.token}` } });
  return {
    status: res.status,
    body: res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text(),
  };
}

const project = (over: Record<string, unknown> = {}) => ({
  type: "project.create",
  commandId: "c-p1",
  projectId: "p1",
  title: "app",
  workspaceRoot: "/srv/app",
  createdAt: AT,
  ...over,
});
const thread = (over: Record<string, unknown> = {}) => ({
  type: "thread.create",
  commandId: "c-t1",
  threadId: "t1",
  projectId: "p1",
  title: "run",
  modelSelection: { instanceId: "claudeAgent", model: "claude-sonnet-4-6" },
  runtimeMode: "full-access",
  interactionMode: "default",
  branch: null,
  worktreePath: null,
  createdAt: AT,
  ...over,
});
const turn = (over: Record<string, unknown> = {}) => ({
  type: "thread.turn.start",
  commandId: "c-u1",
  threadId: "t1",
  message: { messageId: "m1", role: "user", text: "hello", attachments: [] },
  runtimeMode: "full-access",
  interactionMode: "default",
  createdAt: AT,
  ...over,
});

describe("fake T3: what the real server rejects", () => {
  it.each([
    [
      "a command without the type discriminator",
      (() => {
        const { type: _, ...c } = project();
        return c;
      })(),
      400,
      "invalid_command",
    ],
    ["an unknown type", project({ type: "project.upsert" }), 400, "invalid_command"],
    [
      "a missing commandId",
      (() => {
        const { commandId: _, ...c } = project();
        return c;
      })(),
      400,
      "invalid_command",
    ],
    ["a createdAt that is not ISO-8601", project({ createdAt: "yesterday" }), 400, "invalid_command"],
    [
      "a workspaceRoot that is not a directory",
      project({ workspaceRoot: "relative/path" }),
      400,
      "invalid_command",
    ],
  ])("%s → %i %s", async (_, body, status, code) => {
    fake = await startFakeT3();
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code });
    expect(res.body._tag).toEqual(expect.any(String));
    expect(fake.commands).toEqual([]);
  });

  it.each([
    ["branch", "branch"],
    ["worktreePath", "worktreePath"],
    ["modelSelection", "modelSelection"],
    ["runtimeMode", "runtimeMode"],
  ])("thread.create without %s → 400", async (_, key) => {
    fake = await startFakeT3();
    await post(project());
    const body: Record<string, unknown> = thread();
    delete body[key];
    const res = await post(body);
    expect(res).toMatchObject({ status: 400, body: { code: "invalid_command" } });
  });

  it("runtime mode `auto` does not exist in v0.0.27", async () => {
    fake = await startFakeT3();
    await post(project());
    expect((await post(thread({ runtimeMode: "auto" }))).status).toBe(400);
  });

  it("a turn without attachments, or with a non-user role, is rejected", async () => {
    fake = await startFakeT3();
    await post(project());
    await post(thread());
    expect((await post(turn({ message: { messageId: "m1", role: "user", text: "x" } }))).status).toBe(400);
    expect(
      (await post(turn({ message: { messageId: "m1", role: "assistant", text: "x", attachments: [] } })))
        .status,
    ).toBe(400);
  });

  it("domain rejections are an opaque 500: reused project id, deleted project id, unknown project, unknown thread", async () => {
    fake = await startFakeT3();
    fake.seedProject({ id: "gone", workspaceRoot: "/srv/old", deletedAt: AT });
    expect((await post(project())).status).toBe(200);
    const reused = await post(project({ commandId: "c-p2", workspaceRoot: "/srv/other" }));
    const deleted = await post(project({ commandId: "c-p3", projectId: "gone" }));
    const noProject = await post(thread({ projectId: "nope" }));
    const noThread = await post(turn({ threadId: "nope" }));
    for (const r of [reused, deleted, noProject, noThread]) {
      expect(r).toEqual({
        status: 500,
        body: {
          _tag: expect.any(String),
          code: "orchestration_dispatch_failed",
          reason: "Failed to dispatch orchestration command",
        },
      });
    }
  });

  it("auth: 401 without a valid bearer, 403 without the scope", async () => {
    fake = await startFakeT3({
      tokens: { rw: ["orchestration:operate", "orchestration:read"], ro: ["orchestration:read"] },
    });
    expect(await post(project(), null)).toMatchObject({ status: 401, body: { code: "auth_invalid" } });
    expect(await post(project(), "wrong")).toMatchObject({ status: 401, body: { code: "auth_invalid" } });
    expect(await post(project(), "ro")).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
  });

  it("a body that is not JSON is invalid_request", async () => {
    fake = await startFakeT3();
    expect(await post("{nope", fake.token, true)).toMatchObject({
      status: 400,
      body: { code: "invalid_request" },
    });
  });

  it("answers a sequence number only, and the same commandId twice records once", async () => {
    fake = await startFakeT3();
    const first = await post(project());
    const again = await post(project());
    expect(first).toEqual({ status: 200, body: { sequence: 1 } });
    expect(again).toEqual(first);
    expect(fake.commands).toHaveLength(1);
  });
});

describe("fake T3: read model", () => {
  async function seedTurn() {
    await post(project());
    await post(thread());
    await post(turn());
  }

  it("the snapshot matches the contract's read model (v0.0.27: with messages)", async () => {
    fake = await startFakeT3();
    await seedTurn();
    fake.agent("t1").reply("hi");
    const snap = await get("/api/orchestration/snapshot");
    const parsed = ReadModel.parse(snap.body);
    expect(parsed.threads[0]?.messages?.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect((await get("/api/orchestration/threads/t1")).status).toBe(404);
  });

  it("v0.0.32: the snapshot omits messages, /threads/:id has them", async () => {
    fake = await startFakeT3({ version: "v0.0.32" });
    await seedTurn();
    const snap = ReadModel.parse((await get("/api/orchestration/snapshot")).body);
    expect(snap.threads[0]?.messages).toBeUndefined();
    const detail = ThreadDetail.parse((await get("/api/orchestration/threads/t1")).body);
    expect(detail.thread.messages?.map((m) => m.id)).toEqual(["m1"]);
    expect((await get("/api/orchestration/threads/nope")).status).toBe(404);
  });

  it("reproduces the turn-boundary quirk: stale after dispatch, null after a turn until its checkpoint", async () => {
    fake = await startFakeT3();
    await seedTurn();
    const agent = fake.agent("t1");
    const first = agent.startTurn();
    agent.say("done");
    agent.finishTurn();
    expect(fake.thread("t1").latestTurn).toBeNull();
    expect(fake.thread("t1").session?.status).toBe("ready");
    agent.checkpoint();
    expect(fake.thread("t1").latestTurn).toMatchObject({ turnId: first, state: "completed" });
    await post(
      turn({ commandId: "c-u2", message: { messageId: "m2", role: "user", text: "more", attachments: [] } }),
    );
    // A new turn is recorded, but latestTurn still shows the previous one.
    expect(fake.thread("t1").latestTurn).toMatchObject({ turnId: first, state: "completed" });
    const second = agent.startTurn();
    expect(fake.thread("t1").latestTurn).toMatchObject({ turnId: second, state: "running" });
  });

  it("a provider that fails to start: session error and an error activity", async () => {
    fake = await startFakeT3();
    await seedTurn();
    fake.agent("t1").failToStart("claude not authenticated");
    const t = fake.thread("t1");
    expect(t.session).toMatchObject({ status: "error", lastError: "claude not authenticated" });
    expect(t.activities[0]).toMatchObject({ tone: "error", kind: "provider.turn.start.failed" });
  });
});
