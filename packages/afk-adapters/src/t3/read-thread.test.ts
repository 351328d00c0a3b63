import { threadLiveness } from "@claude-gateway/afk-core";
import { afterEach, describe, expect, it } from "vitest";
import {
  T3ThreadUnreadableError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamUnreachableError,
} from "../errors.js";
import {
  type FakeT3,
  type FakeT3Options,
  type FakeT3ThreadEndpoint,
  startFakeT3,
} from "../testing/fake-t3.js";
import { createT3Client, type StartedRun, type T3Client } from "./client.js";

let fake: FakeT3;
afterEach(async () => fake?.close());

const run = {
  workspaceRoot: "/srv/src/acme/app",
  projectTitle: "acme/app",
  threadTitle: "[afk] acme/app#1: fix it",
  prompt: "Do the work.",
  model: { instanceId: "claudeAgent", model: "claude-sonnet-4-6" },
};

/** A fake with one started run whose agent answered; the client that started it. */
async function answered(options: FakeT3Options): Promise<{ c: T3Client; started: StartedRun }> {
  fake = await startFakeT3(options);
  const c = createT3Client({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 });
  const started = await c.startRun(run);
  fake.agent(started.threadId).reply("PHASE: tests-red");
  return { c, started };
}

const threadPath = (id: string) => `/api/orchestration/threads/${id}`;
const gets = () => fake.requests.filter((r) => r.method === "GET").map((r) => r.path);

describe("fake T3: what may answer the thread endpoint instead of T3", () => {
  it.each<[FakeT3ThreadEndpoint, number, string]>([
    ["missing", 404, "text/plain"],
    ["html-catch-all", 200, "text/html"],
    ["unavailable", 503, "text/plain"],
  ])("%s → %i %s", async (threadEndpoint, status, type) => {
    fake = await startFakeT3({ version: "v0.0.32", threadEndpoint });
    const res = await fetch(`${fake.url}${threadPath("t1")}`, {
      headers: { authorization: `Bearer ${fake.token}` },
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toContain(type);
  });

  it("redirect → 302 to an HTML login page", async () => {
    fake = await startFakeT3({ threadEndpoint: "redirect" });
    const res = await fetch(`${fake.url}${threadPath("t1")}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login");
    expect((await fetch(`${fake.url}/login`)).headers.get("content-type")).toContain("text/html");
  });
});

describe("readThread: falls back to the snapshot on any answer that is not JSON", () => {
  it.each<FakeT3ThreadEndpoint>(["missing", "html-catch-all", "redirect", "unavailable"])(
    "v0.0.27 (the snapshot carries messages), thread endpoint %s → the thread, with its messages",
    async (threadEndpoint) => {
      const { c, started } = await answered({ version: "v0.0.27", threadEndpoint });
      const thread = await c.readThread(started.threadId);
      expect(thread?.messages?.map((m) => m.role)).toEqual(["user", "assistant"]);
      expect(threadLiveness(thread!, started.turn).state).toBe("idle");
      expect(gets()).toContain(threadPath(started.threadId));
      expect(gets().at(-1)).toBe("/api/orchestration/snapshot");
      expect(await c.readThread("nope")).toBeNull();
    },
  );

  it.each<[FakeT3ThreadEndpoint, RegExp]>([
    ["missing", /status 404: /],
    ["html-catch-all", /body is not JSON \(text\/html; charset=UTF-8\): <!doctype html>/],
    ["redirect", /body is not JSON \(text\/html; charset=UTF-8\): <!doctype html><html><head><title>Sign in/],
    ["unavailable", /status 503: Service Unavailable/],
  ])(
    "v0.0.32 (the snapshot has no messages), thread endpoint %s → a named error, not an empty thread",
    async (threadEndpoint, why) => {
      const { c, started } = await answered({ version: "v0.0.32", threadEndpoint });
      const err = await c.readThread(started.threadId).catch((e) => e);
      expect(err).toBeInstanceOf(T3ThreadUnreadableError);
      expect(err).toBeInstanceOf(UpstreamContractError);
      expect(err.message).toMatch(
        new RegExp(
          `^t3: GET /api/orchestration/threads/${started.threadId} answered outside the contract: .*; the snapshot carries no messages for the thread \\(v0\\.0\\.32\\+\\), so it cannot stand in$`,
        ),
      );
      expect(err.message).toMatch(why);
      // A thread the snapshot does not list is gone, whatever answered the endpoint.
      expect(await c.readThread("nope")).toBeNull();
    },
  );

  it("v0.0.32, a deleted thread needs no messages: it reads as deleted", async () => {
    const { c, started } = await answered({ version: "v0.0.32", threadEndpoint: "html-catch-all" });
    await c.dispatch({ type: "thread.delete", commandId: "del-1", threadId: started.threadId });
    expect((await c.readThread(started.threadId))?.deletedAt).toEqual(expect.any(String));
  });
});

describe("readThread: outside the contract, or no answer at all, is an error", () => {
  it("v0.0.32: the thread endpoint's JSON outside the contract names the field", async () => {
    const { c, started } = await answered({ version: "v0.0.32" });
    fake.setOutage("off-contract");
    const err = await c.readThread(started.threadId).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamContractError);
    expect(err.message).toBe(
      `t3: GET /api/orchestration/threads/${started.threadId} answered outside the contract: thread.latestTurn.state: expected one of running|interrupted|completed|error`,
    );
    // JSON the contract rejects is final: no fallback to the snapshot.
    expect(gets().at(-1)).toBe(threadPath(started.threadId));
  });

  it("v0.0.27: our thread in the snapshot outside the contract names where it sits", async () => {
    const { c, started } = await answered({ version: "v0.0.27" });
    fake.setOutage("off-contract");
    await expect(c.readThread(started.threadId)).rejects.toThrow(
      "t3: GET /api/orchestration/snapshot answered outside the contract: threads.0.latestTurn.state: expected one of running|interrupted|completed|error",
    );
  });

  it.each(["v0.0.27", "v0.0.32"] as const)("%s: unreachable, then 503, then back", async (version) => {
    const { c, started } = await answered({ version });
    fake.setOutage("unreachable");
    await expect(c.readThread(started.threadId)).rejects.toBeInstanceOf(UpstreamUnreachableError);
    fake.setOutage("unavailable");
    const err = await c.readThread(started.threadId).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status: 503, path: "/api/orchestration/snapshot" });
    fake.setOutage(null);
    expect((await c.readThread(started.threadId))?.id).toBe(started.threadId);
  });
});

describe("readThread: parses the contract, not more", () => {
  it.each(["v0.0.27", "v0.0.32"] as const)(
    "%s: activities with only the contract's fields (and unknown ones) are read, not refused",
    async (version) => {
      const { c, started } = await answered({ version });
      const createdAt = new Date(Date.now() + 60_000).toISOString();
      fake.addActivity(started.threadId, { tone: "info", kind: "tool.started", createdAt });
      fake.addActivity(started.threadId, {
        tone: "error",
        kind: "provider.turn.start.failed",
        createdAt,
        // A field some later version adds: ignored.
        ...({ severity: 3 } as object),
      });
      const thread = await c.readThread(started.threadId);
      expect(thread?.activities).toEqual([
        { tone: "info", kind: "tool.started", createdAt },
        { tone: "error", kind: "provider.turn.start.failed", createdAt },
      ]);
      expect(threadLiveness(thread!, started.turn)).toEqual({
        state: "failed",
        reason: "provider.turn.start.failed",
      });
    },
  );
});
