import { ConversationalReply, ConversationalRequest, services, subjects } from "@claude-gateway/contracts";
import { addService, type NatsLogger, NatsServiceError, serveEndpoint } from "@claude-gateway/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ConversationService } from "./conversation.js";
import { fromWire } from "./core/turn.js";
import { errorBody } from "./errors.js";

/** Who NATS turns are recorded for: internal services, already inside the cluster. */
export const NATS_CALLER = "nats";

/**
 * The turn as a NATS micro-service endpoint (one queue group shared by replicas, `$SRV.*`
 * discovery). Errors are service errors with the HTTP status as code and `<error>: <detail>` as
 * the message, e.g. `404 conversation_not_found: …`. Streaming is HTTP only.
 */
export async function serveConversationalNats(
  nc: NatsConnection,
  deps: { conversations: Pick<ConversationService, "turn">; logger: NatsLogger },
): Promise<Awaited<ReturnType<typeof addService>>> {
  const svc = await addService(nc, {
    ...services.conversational,
    description: "Short spoken replies from a no-tools Claude agent",
  });
  serveEndpoint(svc, {
    subject: subjects.conversational.turn,
    name: "turn",
    request: ConversationalRequest,
    response: ConversationalReply,
    logger: deps.logger,
    handler: async (req) => {
      try {
        return await deps.conversations.turn(fromWire(req), NATS_CALLER);
      } catch (err) {
        const { status, body } = errorBody(err);
        throw new NatsServiceError(status, `${body.error}: ${body.detail}`, { cause: err });
      }
    },
  });
  return svc;
}
