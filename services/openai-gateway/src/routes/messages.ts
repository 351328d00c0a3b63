import { ModelNotSupportedError, type ModelPolicy, resolveModel } from "@claude-gateway/contracts";
import { Hono } from "hono";
import type { SSEStreamingApi } from "hono/streaming";
import { TokenCountingUnavailableError } from "../core/anthropic/count-tokens.js";
import { messageFromJob, messageId, pausedMessage } from "../core/anthropic/message.js";
import { promptOf } from "../core/anthropic/prompt.js";
import { parseMessagesRequest } from "../core/anthropic/request.js";
import { createMessageEncoder, type MessageStreamEvent } from "../core/anthropic/stream.js";
import { anthropicAnswer } from "../core/error-style.js";
import { ModelNotFoundError } from "../core/errors.js";
import { AGENT_HEADER, chooseAgent } from "../core/request.js";
import { type AppEnv, readJson } from "../http.js";
import { type JobRequestDeps, serveJobRequest } from "../job-request.js";
import type { StreamProtocol } from "../job-stream.js";

/**
 * `POST /messages` (Anthropic's Messages API): one request, one executor job. A job may offer the
 * caller's tools; when the model calls them the answer is the calls (`stop_reason: "tool_use"`),
 * and the request whose last message holds their results continues the same job.
 */
export function messagesRoutes(deps: JobRequestDeps): Hono<AppEnv> {
  const messages = new Hono<AppEnv>();
  messages.post("/messages", (c) =>
    serveJobRequest<MessageStreamEvent>(deps, c, async () => {
      const req = parseMessagesRequest(await readJson(c));
      checkModel(deps.models, req.model);
      const { prompt, images } = promptOf(req);
      // Stop sequences cut prose, never a structured answer (it would no longer be valid JSON).
      const answer = { stop: req.jsonSchema ? [] : req.stop, jsonSchema: req.jsonSchema };
      return {
        requestedModel: req.model,
        stream: req.stream,
        // Anthropic's metadata has no room for it: the agent is asked for by header only.
        agent: chooseAgent({ metadata: undefined, header: c.req.header(AGENT_HEADER) }),
        job: {
          prompt,
          ...(req.jsonSchema ? { jsonSchema: req.jsonSchema } : {}),
          ...(req.tools ? { tools: req.tools } : {}),
        },
        ...(req.toolResults ? { toolResults: req.toolResults } : {}),
        // Inline images pass; a URL is fetched only from an allowlisted host (else a 400).
        images,
        idPrefix: "msg",
        complete: (job, ctx) => messageFromJob({ id: messageId(ctx.uuid), model: ctx.model }, job, answer),
        completeToolCalls: (pending, ctx) =>
          pausedMessage({ id: messageId(ctx.uuid), model: ctx.model }, ctx.job.id, pending),
        stream$: (ctx) =>
          messagesStream(
            createMessageEncoder({ id: messageId(ctx.uuid), model: ctx.model, jobId: ctx.job.id }, answer),
          ),
      };
    }),
  );
  // Answered here rather than thrown: a 501 is a 5xx, which SDKs retry unless told not to.
  messages.post("/messages/count_tokens", (c) => {
    const err = new TokenCountingUnavailableError();
    return c.json(anthropicAnswer(err).body, 501, { "x-should-retry": "false" });
  });
  return messages;
}

/** Anthropic answers a model it does not have with 404 `not_found_error`; ours names the ones it has. */
function checkModel(policy: ModelPolicy, model: string): void {
  try {
    resolveModel(policy, model);
  } catch (err) {
    if (err instanceof ModelNotSupportedError) throw new ModelNotFoundError(`model: ${err.message}`, 404);
    throw err;
  }
}

/** Named SSE events (`event: message_start` …), as the SDK reads them; an error is `event: error`. */
function messagesStream(
  encoder: StreamProtocol<MessageStreamEvent>["encoder"],
): StreamProtocol<MessageStreamEvent> {
  const send = (sse: SSEStreamingApi, event: string, body: unknown) =>
    sse.writeSSE({ event, data: JSON.stringify(body) });
  return {
    encoder,
    write: (sse, frame) => send(sse, frame.type, frame),
    // Anthropic's own keep-alive; SDKs skip it.
    keepAlive: (sse) => send(sse, "ping", { type: "ping" }),
    error: (sse, err) => send(sse, "error", anthropicAnswer(err).body),
  };
}
