import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { ChatService } from "../chat.js";
import { isSessionId } from "../core/sessions.js";
import type { NumberedEvent, TurnLog } from "../core/turn-log.js";
import type { Env } from "../env.js";
import { NotFoundError } from "../errors.js";
import { limitBody, parseBody } from "./body.js";

const CreateSession = z.strictObject({
  /** Adopt a session by id, e.g. after a restart: the CLI's transcript still resumes it. */
  id: z.string().refine(isSessionId, "must be a lowercase UUID").optional(),
});
const Message = z.strictObject({ text: z.string().trim().min(1).max(20_000) });
const Answer = z.strictObject({
  decision: z.enum(["allow", "deny"]),
  /** Goes to the agent with a deny. */
  note: z.string().trim().max(2000).optional(),
});
const PERMISSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `/api/sessions`: create, read, run a turn (SSE), reattach to it (SSE), stop it. */
export function chatRoutes(chat: ChatService, opts: { keepaliveMs: number }) {
  const r = new Hono<Env>();
  const sessionId = (id: string) => {
    if (!isSessionId(id)) throw new NotFoundError("session_not_found", `no session ${id}`);
    return id;
  };

  r.get("/", (c) => c.json({ sessions: chat.list(c.get("principal").name) }));
  r.post("/", limitBody(4096), async (c) => {
    const body = await parseBody(c, CreateSession, true);
    const { view, created } = chat.create(c.get("principal").name, body.id);
    return c.json(view, created ? 201 : 200);
  });
  r.get("/:id", (c) => c.json(chat.get(sessionId(c.req.param("id")), c.get("principal").name)));

  r.post("/:id/messages", limitBody(64 * 1024), async (c) => {
    const id = sessionId(c.req.param("id"));
    const { text } = await parseBody(c, Message);
    const log = chat.startTurn(id, c.get("principal").name, text);
    c.get("log").info({ sessionId: id, caller: c.get("principal").name }, "turn started");
    return streamTurn(c, log, -1, opts.keepaliveMs);
  });

  r.get("/:id/current", (c) => {
    const log = chat.currentTurn(sessionId(c.req.param("id")), c.get("principal").name);
    const after = Number(c.req.query("after") ?? c.req.header("last-event-id") ?? -1);
    return streamTurn(c, log, Number.isInteger(after) ? after : -1, opts.keepaliveMs);
  });

  r.post("/:id/permissions/:permissionId", limitBody(8192), async (c) => {
    const id = sessionId(c.req.param("id"));
    const permissionId = c.req.param("permissionId");
    if (!PERMISSION_ID.test(permissionId))
      throw new NotFoundError("permission_not_found", `no open permission prompt ${permissionId}`);
    const { decision, note } = await parseBody(c, Answer);
    const out = chat.answerPermission(id, c.get("principal").name, permissionId, decision, note || undefined);
    return c.json(out);
  });

  r.delete("/:id/current", (c) => {
    chat.stopTurn(sessionId(c.req.param("id")), c.get("principal").name);
    return c.json({ stopping: true }, 202);
  });
  return r;
}

/**
 * Streams a turn's events after `after` as SSE (`id:` is the event's number, for reattaching),
 * ending with `done`. A client that goes away only unsubscribes: the turn runs on.
 */
function streamTurn(c: Parameters<typeof streamSSE>[0], log: TurnLog, after: number, keepaliveMs: number) {
  c.header("x-accel-buffering", "no");
  return streamSSE(c, async (stream) => {
    const queue: NumberedEvent[] = [];
    let wake: (() => void) | undefined;
    let gone = false;
    const unsubscribe = log.subscribe(after, (item) => {
      queue.push(item);
      wake?.();
    });
    stream.onAbort(() => {
      gone = true;
      wake?.();
    });
    const ping = setInterval(() => void stream.write(": keepalive\n\n"), keepaliveMs);
    try {
      if (log.finished && queue.length === 0) return;
      for (;;) {
        for (let item = queue.shift(); item; item = queue.shift()) {
          await stream.writeSSE({
            event: item.event.type,
            data: JSON.stringify(item.event),
            id: String(item.seq),
          });
          if (item.event.type === "done") return;
        }
        if (gone) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      clearInterval(ping);
      unsubscribe();
    }
  });
}
