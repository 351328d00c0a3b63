import { randomUUID } from "node:crypto";
import {
  type ConversationalReply,
  ForwardAccepted,
  ForwardedEvent,
  ForwardedTurn,
  subjects,
} from "@claude-gateway/contracts";
import {
  decodeJson,
  encodeJson,
  RequestTimeoutError,
  request,
  ServiceUnavailableError,
} from "@claude-gateway/nats";
import {
  errorBody,
  type Logger,
  ServiceError,
  silentLogger,
  toServiceError,
} from "@claude-gateway/service-kit";
import { headers, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { ConversationService, TurnHooks } from "./conversation.js";
import { ownedBy } from "./core/record.js";
import { fromWire, type TurnRequest } from "./core/turn.js";
import type { ConversationStore } from "./ports.js";

/** The owner of a conversation's warm process did not take the turn: this replica runs it. */
export class OwnerGoneError extends Error {
  override readonly name = "OwnerGoneError";
}

/** Hands a turn to the replica `owner`; resolves with its reply, relaying its sentences. */
export type ForwardTurn = (
  owner: string,
  turn: { request: TurnRequest; caller: string },
  hooks: TurnHooks,
) => Promise<ConversationalReply>;

export interface ForwardingDeps {
  store: Pick<ConversationStore, "get">;
  replicaId: string;
  forward: ForwardTurn;
  logger?: Logger;
  /** `forwarded`, or `taken_over` when the owner was gone. */
  onForward?: (outcome: "forwarded" | "taken_over") => void;
  /** Whether a replica holds its lease (`ReplicaLeases.alive`); without it every owner is tried. */
  ownerAlive?: (replicaId: string) => Promise<boolean>;
}

/**
 * Turns of a conversation whose warm process another replica holds go to that replica (it answers
 * in tens of milliseconds instead of a cold start here); when it does not answer, this replica
 * takes the conversation over with a cold resume from the stored transcript. Everything else, and
 * every check (ownership, admission, limits), is the local service's, on whichever replica runs it.
 */
export function withForwarding(local: ConversationService, deps: ForwardingDeps): ConversationService {
  const log = deps.logger ?? silentLogger;
  return {
    async turn(request, caller, hooks = {}) {
      const id = request.conversationId;
      if (id !== undefined) {
        const record = await deps.store.get(id).catch(() => null);
        const owner = record?.warmOn;
        if (record && ownedBy(record, caller) && owner !== undefined && owner !== deps.replicaId) {
          try {
            // An owner whose lease lapsed is not asked (it would not answer, or only after seconds).
            if (deps.ownerAlive && !(await deps.ownerAlive(owner)))
              throw new OwnerGoneError(`replica ${owner} holds no lease`);
            const reply = await deps.forward(owner, { request, caller }, hooks);
            deps.onForward?.("forwarded");
            return reply;
          } catch (err) {
            if (!(err instanceof OwnerGoneError)) throw err;
            log.info(
              { conversationId: id, owner, reason: err.message },
              "warm owner gone: taking the turn over",
            );
            deps.onForward?.("taken_over");
          }
        }
      }
      return local.turn(request, caller, hooks);
    },
    get active() {
      return local.active;
    },
    shutdown: (graceMs) => local.shutdown(graceMs),
  };
}

/** How long the owner has to accept a forwarded turn before it counts as gone. */
const ACCEPT_TIMEOUT_MS = 2_000;

/**
 * The forwarded turn's accept deadline (epoch ms), so an owner that reads it late (frozen, cut off)
 * does not run a turn its sender has given up on and run itself: that turn would be in the
 * history twice. A header, not a field: owners without this check ignore it.
 */
export const FORWARD_ACCEPT_BY_HEADER = "Forward-Accept-By";
/** The owner accepts only this long before the deadline: its accept must still reach the sender. */
const ACCEPT_MARGIN_MS = 250;

/** Whether a forwarded turn with this accept deadline (the header's value) may still be accepted. */
export function withinAcceptDeadline(acceptBy: string | undefined, nowMs: number): boolean {
  if (acceptBy === undefined || acceptBy === "") return true; // a sender without deadlines
  const deadline = Number(acceptBy);
  return Number.isFinite(deadline) && nowMs <= deadline - ACCEPT_MARGIN_MS;
}

/** Forwards over NATS: the owner accepts on `forwardTo(owner)`, then publishes the turn's events. */
export function natsForwarder(
  nc: NatsConnection,
  opts: {
    replicaId: string;
    deadlineMs: number;
    /**
     * Asked every `checkEveryMs` while the owner runs the turn: an owner that stops holding its
     * lease died (or was cut off) mid-turn. Before any sentence was relayed the turn is taken
     * over here; after one, it fails (`crashed`) rather than speak twice.
     */
    ownerAlive?: (replicaId: string) => Promise<boolean>;
    checkEveryMs?: number;
    logger?: Logger;
    now?: () => number;
  },
): ForwardTurn {
  const now = opts.now ?? Date.now;
  return async (owner, turn, hooks) => {
    const events = subjects.conversational.forwardEvents(opts.replicaId, randomUUID());
    const sub = nc.subscribe(events);
    let timedOut = false;
    let ownerDied = false;
    let relayed = 0;
    const deadline = setTimeout(() => {
      timedOut = true;
      sub.unsubscribe();
    }, opts.deadlineMs);
    const ownerAlive = opts.ownerAlive;
    const watch = ownerAlive
      ? setInterval(() => {
          void ownerAlive(owner).then((alive) => {
            if (alive || sub.isClosed()) return;
            ownerDied = true;
            sub.unsubscribe();
          });
        }, opts.checkEveryMs ?? 1_000)
      : undefined;
    try {
      const wire = toWire(turn.request);
      const acceptBy = headers();
      acceptBy.set(FORWARD_ACCEPT_BY_HEADER, String(now() + ACCEPT_TIMEOUT_MS));
      try {
        await request(nc, {
          subject: subjects.conversational.forwardTo(owner),
          request: ForwardedTurn,
          response: ForwardAccepted,
          payload: { request: wire, caller: turn.caller, events },
          timeoutMs: ACCEPT_TIMEOUT_MS,
          headers: acceptBy,
        });
      } catch (err) {
        if (err instanceof ServiceUnavailableError || err instanceof RequestTimeoutError)
          throw new OwnerGoneError(`replica ${owner} did not take the turn (${err.name})`);
        throw err;
      }
      for await (const msg of sub) {
        const decoded = decodeJson(msg.data, ForwardedEvent);
        if (!decoded.ok) throw new ServiceError(502, "upstream_error", `bad event from replica ${owner}`);
        const event = decoded.value;
        if (event.type === "sentence") {
          relayed++;
          hooks.onSentence?.(event.text);
        } else if (event.type === "done") return event.reply;
        else {
          // The owner is stopping: the turn never started there, so it runs here.
          if (event.error.error === "shutting_down") throw new OwnerGoneError(`replica ${owner} is stopping`);
          throw new ServiceError(event.status, event.error.error, event.error.detail, {
            ...(event.error.retry_after_seconds !== undefined
              ? { retryAfterSeconds: event.error.retry_after_seconds }
              : {}),
            ...(event.error.issues !== undefined ? { issues: event.error.issues } : {}),
          });
        }
      }
      if (ownerDied && !timedOut) {
        if (relayed === 0) throw new OwnerGoneError(`replica ${owner} lost its lease mid-turn`);
        throw new ServiceError(
          503,
          "crashed",
          `replica ${owner} stopped mid-turn after part of the reply went out; ask again`,
        );
      }
      throw new ServiceError(
        503,
        timedOut ? "timeout" : "upstream_error",
        timedOut
          ? `replica ${owner} did not finish the forwarded turn in time`
          : `the forwarded turn's events from replica ${owner} ended without a reply`,
      );
    } finally {
      clearTimeout(deadline);
      clearInterval(watch);
      sub.unsubscribe();
    }
  };
}

/** Runs the turns other replicas forward here, on the local service (never forwarded again). */
export function serveForwardedTurns(
  nc: NatsConnection,
  opts: {
    replicaId: string;
    conversations: Pick<ConversationService, "turn">;
    logger?: Logger;
    now?: () => number;
  },
): Subscription {
  const log = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  // Events may only go back under a replica subject (where only our replicas listen).
  const eventsPrefix = subjects.conversational.allReplicas.slice(0, -1);
  return nc.subscribe(subjects.conversational.forwardTo(opts.replicaId), {
    callback: (err, msg) => {
      if (err) return log.warn({ err }, "forwarded-turn subscription failed");
      const decoded = decodeJson(msg.data, ForwardedTurn);
      if (!decoded.ok || !decoded.value.events.startsWith(eventsPrefix)) {
        log.warn({ problem: decoded.ok ? "events subject" : decoded.message }, "refused a forwarded turn");
        return;
      }
      const turn = decoded.value;
      const acceptBy = msg.headers?.get(FORWARD_ACCEPT_BY_HEADER);
      if (!withinAcceptDeadline(acceptBy, now())) {
        // Read too late (this replica was frozen or cut off): the sender has run it itself.
        log.warn(
          { conversationId: turn.request.conversation_id, acceptBy, now: now() },
          "dropped a forwarded turn past its accept deadline",
        );
        return;
      }
      msg.respond(encodeJson({ accepted: true } satisfies ForwardAccepted));
      const send = (event: ForwardedEvent) => nc.publish(turn.events, encodeJson(event));
      void opts.conversations
        .turn(fromWire(turn.request), turn.caller, { onSentence: (text) => send({ type: "sentence", text }) })
        .then(
          (reply) => send({ type: "done", reply }),
          (e: unknown) => {
            const se = toServiceError(e);
            send({ type: "error", status: se.status, error: errorBody(se) });
          },
        );
    },
  });
}

function toWire(request: TurnRequest): ForwardedTurn["request"] {
  return {
    message: request.message,
    ...(request.conversationId !== undefined ? { conversation_id: request.conversationId } : {}),
    ...(request.language !== undefined ? { language: request.language } : {}),
    ...(request.model !== undefined ? { model: request.model } : {}),
  };
}
