import { ConversationalReply, ConversationalRequest, services, subjects } from "@claude-gateway/contracts";
import { addService, serveEndpoint } from "@claude-gateway/nats";
import type { Logger } from "@claude-gateway/service-kit";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ConversationService } from "./conversation.js";
import { fromWire } from "./core/turn.js";
import { InvalidRequestError } from "./errors.js";

/**
 * The turn as a NATS micro-service endpoint (one queue group shared by replicas, `$SRV.*`
 * discovery). An error is a micro-service error whose code is the HTTP status and whose data is
 * the same envelope HTTP answers with (`request` in `@claude-gateway/nats` rebuilds it as a typed
 * error). Streaming is HTTP only.
 *
 * A request names its `caller` (the principal it runs for, is admitted, billed and owns its
 * conversations as); one without is refused. The bus does not authenticate that claim yet: only
 * the gateway's own services may reach it.
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
    subject: subjects.conversational.turn,
    name: "turn",
    request: ConversationalRequest,
    response: ConversationalReply,
    logger: deps.logger,
    handler: (req) => {
      if (req.caller === undefined) {
        throw new InvalidRequestError("caller: required over NATS: the principal the turn runs for");
      }
      return deps.conversations.turn(fromWire(req), req.caller);
    },
  });
  return svc;
}
