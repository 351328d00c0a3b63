import type { ConversationalReply } from "@claude-gateway/contracts";
import { encodeJson } from "@claude-gateway/nats";
import { headers, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import type { ConversationService } from "./conversation.js";
import type { ConversationRecord } from "./core/record.js";
import {
  FORWARD_ACCEPT_BY_HEADER,
  type ForwardTurn,
  natsForwarder,
  OwnerGoneError,
  serveForwardedTurns,
  withForwarding,
  withinAcceptDeadline,
} from "./forwarding.js";

const reply = (by: string): ConversationalReply => ({
  conversation_id: "c1",
  reply: by,
  session_id: "s",
  model: "m",
  usage: {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    costUsd: 0,
  },
  duration_ms: 1,
});
const record = (over: Partial<ConversationRecord> = {}): ConversationRecord => ({
  conversationId: "c1",
  sessionId: "0b3c4f4e-9a59-4c51-8a43-2f1c8d2f7a10",
  model: "m",
  createdAt: "2026-12-04T00:00:00.000Z",
  updatedAt: "2026-12-04T00:00:00.000Z",
  turns: 1,
  createdBy: "tok_alice",
  ...over,
});

function setup(
  stored: ConversationRecord | null,
  forward: ForwardTurn,
  ownerAlive?: (replicaId: string) => Promise<boolean>,
) {
  const localCalls: string[] = [];
  const local: ConversationService = {
    turn: async (request) => {
      localCalls.push(request.message);
      return reply("local");
    },
    active: 0,
    shutdown: async () => {},
  };
  const outcomes: string[] = [];
  const service = withForwarding(local, {
    store: { get: async () => stored },
    replicaId: "me",
    forward,
    onForward: (o) => outcomes.push(o),
    ...(ownerAlive ? { ownerAlive } : {}),
  });
  return { service, localCalls, outcomes };
}

describe("withForwarding", () => {
  it("a turn of a conversation warm on another replica goes there, sentences relayed", async () => {
    const sent: string[] = [];
    const { service, localCalls, outcomes } = setup(
      record({ warmOn: "other" }),
      async (owner, turn, hooks) => {
        hooks.onSentence?.(`from ${owner}`);
        expect(turn).toEqual({ request: { conversationId: "c1", message: "hi" }, caller: "tok_alice" });
        return reply("forwarded");
      },
    );
    const r = await service.turn({ conversationId: "c1", message: "hi" }, "tok_alice", {
      onSentence: (s) => sent.push(s),
    });
    expect(r.reply).toBe("forwarded");
    expect(sent).toEqual(["from other"]);
    expect(localCalls).toEqual([]);
    expect(outcomes).toEqual(["forwarded"]);
  });

  it("an owner that is gone: the turn runs here", async () => {
    const { service, localCalls, outcomes } = setup(record({ warmOn: "dead" }), async () => {
      throw new OwnerGoneError("no responders");
    });
    expect((await service.turn({ conversationId: "c1", message: "hi" }, "tok_alice")).reply).toBe("local");
    expect(localCalls).toEqual(["hi"]);
    expect(outcomes).toEqual(["taken_over"]);
  });

  it("an owner holding no lease is not asked: the turn runs here at once; one that holds it is", async () => {
    const asked: string[] = [];
    const forward: ForwardTurn = async (owner) => {
      asked.push(owner);
      return reply("forwarded");
    };
    const alive = async (id: string) => id === "live";
    const dead = setup(record({ warmOn: "dead" }), forward, alive);
    expect((await dead.service.turn({ conversationId: "c1", message: "hi" }, "tok_alice")).reply).toBe(
      "local",
    );
    expect(dead.outcomes).toEqual(["taken_over"]);
    const live = setup(record({ warmOn: "live" }), forward, alive);
    expect((await live.service.turn({ conversationId: "c1", message: "hi" }, "tok_alice")).reply).toBe(
      "forwarded",
    );
    expect(asked).toEqual(["live"]);
  });

  it("the owner's own errors (a 429, a CLI failure) are the caller's answer, not a takeover", async () => {
    const { service, localCalls } = setup(record({ warmOn: "other" }), async () => {
      throw Object.assign(new Error("too many"), { status: 429, code: "rate_limited" });
    });
    await expect(service.turn({ conversationId: "c1", message: "hi" }, "tok_alice")).rejects.toThrow(
      "too many",
    );
    expect(localCalls).toEqual([]);
  });

  it("runs here: a new conversation, one warm here or nowhere, another caller's (its 404 is local), an unknown id", async () => {
    const never: ForwardTurn = async () => {
      throw new Error("must not forward");
    };
    for (const [stored, caller, id] of [
      [record({ warmOn: "other" }), "tok_alice", undefined],
      [record({ warmOn: "me" }), "tok_alice", "c1"],
      [record(), "tok_alice", "c1"],
      [record({ warmOn: "other" }), "tok_mallory", "c1"],
      [null, "tok_alice", "c1"],
    ] as const) {
      const { service, localCalls } = setup(stored, never);
      await service.turn({ ...(id ? { conversationId: id } : {}), message: "x" }, caller);
      expect(localCalls).toEqual(["x"]);
    }
  });
});

describe("a forwarded turn's accept deadline", () => {
  it("is open until a margin before the deadline; absent (an older sender), always", () => {
    expect(withinAcceptDeadline("10000", 9_000)).toBe(true);
    expect(withinAcceptDeadline("10000", 9_750)).toBe(true);
    expect(withinAcceptDeadline("10000", 9_751)).toBe(false);
    expect(withinAcceptDeadline("10000", 12_000)).toBe(false);
    expect(withinAcceptDeadline("garbage", 0)).toBe(false);
    expect(withinAcceptDeadline(undefined, 12_000)).toBe(true);
    expect(withinAcceptDeadline("", 12_000)).toBe(true);
  });

  it("the sender stamps it: now + the 2 s it waits for the accept", async () => {
    let sent: MsgHdrs | undefined;
    const nc = {
      info: undefined,
      subscribe: () => ({ unsubscribe: () => {}, isClosed: () => true }),
      request: async (_subject: string, _data: Uint8Array, opts: { headers?: MsgHdrs }) => {
        sent = opts.headers;
        throw new Error("no one there");
      },
    } as unknown as NatsConnection;
    const forward = natsForwarder(nc, { replicaId: "me", deadlineMs: 60_000, now: () => 1_000 });
    await expect(
      forward("owner", { request: { conversationId: "c1", message: "hi" }, caller: "tok_alice" }, {}),
    ).rejects.toThrow();
    expect(sent?.get(FORWARD_ACCEPT_BY_HEADER)).toBe("3000");
  });

  it("the owner drops a turn it reads past the deadline (it was frozen): no accept, no run; in time, it runs", async () => {
    let deliver!: (msg: Msg) => void;
    const nc = {
      subscribe: (_subject: string, opts: { callback: (err: Error | null, msg: Msg) => void }) => {
        deliver = (msg) => opts.callback(null, msg);
        return { unsubscribe: () => {} };
      },
      publish: () => {},
    } as unknown as NatsConnection;
    const ran: string[] = [];
    let clock = 0;
    serveForwardedTurns(nc, {
      replicaId: "owner",
      conversations: {
        turn: async (request) => {
          ran.push(request.message);
          return reply("owner");
        },
      },
      now: () => clock,
    });
    const forwarded = (message: string, acceptBy: number) => {
      const h = headers();
      h.set(FORWARD_ACCEPT_BY_HEADER, String(acceptBy));
      const responses: unknown[] = [];
      deliver({
        data: encodeJson({
          request: { conversation_id: "c1", message },
          caller: "tok_alice",
          events: "agent.v1.conversational.replica.me.events.f1",
        }),
        headers: h,
        respond: (data: Uint8Array) => responses.push(data),
      } as unknown as Msg);
      return responses;
    };
    clock = 5_000;
    expect(forwarded("stale", 4_000)).toHaveLength(0);
    expect(forwarded("fresh", 7_000)).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(["fresh"]);
  });
});
