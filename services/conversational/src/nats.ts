import { ConversationalReply, ConversationalRequest, services, subjects } from "@claude-gateway/contracts";
import { addService, callerOfRequest, serveEndpoint } from "@claude-gateway/nats";
import type { Logger } from "@claude-gateway/service-kit";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ConversationService } from "./conversation.js";
import { fromWire } from "./core/turn.js";

/**
 * The turn as a NATS micro-service endpoint (one queue group shared by replicas, `$SRV.*`
 * discovery). An error is a micro-service error whose code is the HTTP status and whose data is
 * the same envelope HTTP answers with (`request` in `@claude-gateway/nats` rebuilds it as a typed
 * error). Streaming is HTTP only.
 *
 * The subject names the caller (`agent.v1.conversational.turn.<principal>`: the principal the
 * turn runs for, is admitted, billed and owns its conversations as), which the bus's permissions
 * let only that caller, or one of our services acting for a caller it authenticated, publish. A
 * payload's `caller` may repeat it; naming anyone else is a 403 `caller_mismatch`.
 */
export async function serveConversationalNats(
  nc: NatsConnection,
  deps: { conversations: Pick<ConversationService, "turn">; logger: Logger },
): Promise<Awaited<ReturnType<typeof addService>>> {
  const svc = await addService(nc, {
    ...services.conversational,
    description: "Short spoken replies from a no-tools Claude agent",
  });
  serveEndpoint(svc, {
    subject: subjects.conversational.serveTurn,
    name: "turn",
    request: ConversationalRequest,
    response: ConversationalReply,
    logger: deps.logger,
    handler: (req, ctx) => deps.conversations.turn(fromWire(req), callerOfRequest(ctx.subject, req.caller)),
  });
  return svc;
}
