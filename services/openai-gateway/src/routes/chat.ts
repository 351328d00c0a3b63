import { Hono } from "hono";
import type { SSEStreamingApi } from "hono/streaming";
import { type ChatCompletionChunk, createChunker } from "../core/chunks.js";
import { type CompletionContext, completionFromJob, toolCallsCompletion } from "../core/completion.js";
import { buildPrompt } from "../core/prompt.js";
import { AGENT_HEADER, chooseAgent, parseChatRequest } from "../core/request.js";
import { type AppEnv, readJson } from "../http.js";
import { type JobRequestDeps, type ResponseContext, serveJobRequest } from "../job-request.js";
import type { StreamProtocol } from "../job-stream.js";

/**
 * `POST /chat/completions`: one request, one executor job. A job may offer the caller's tools;
 * when the model calls them the answer is the calls (`finish_reason: "tool_calls"`), and the
 * request that brings their results (`tool` messages) continues the same job.
 */
export function chatRoutes(deps: JobRequestDeps): Hono<AppEnv> {
  const chat = new Hono<AppEnv>();
  chat.post("/chat/completions", (c) =>
    serveJobRequest<ChatCompletionChunk>(deps, c, async () => {
      const req = parseChatRequest(await readJson(c));
      const completion = (ctx: ResponseContext): CompletionContext => ({
        id: `chatcmpl-${ctx.uuid}`,
        created: ctx.created,
        model: ctx.model,
      });
      return {
        requestedModel: req.model,
        stream: req.stream,
        agent: chooseAgent({ metadata: req.agent, header: c.req.header(AGENT_HEADER) }),
        job: {
          prompt: buildPrompt(req.messages),
          ...(req.jsonSchema ? { jsonSchema: req.jsonSchema } : {}),
          ...(req.tools ? { tools: req.tools } : {}),
        },
        ...(req.toolResults ? { toolResults: req.toolResults } : {}),
        images: req.images,
        idPrefix: "oai",
        complete: (job, ctx) => completionFromJob(completion(ctx), job, req.stop, req.jsonSchema),
        completeToolCalls: (pending, ctx) => toolCallsCompletion(completion(ctx), ctx.job.id, pending),
        stream$: (ctx) =>
          chatStream(
            createChunker(
              {
                ...completion(ctx),
                jobId: ctx.job.id,
                includeUsage: req.includeUsage,
                schema: req.jsonSchema,
              },
              req.stop,
            ),
          ),
      };
    }),
  );
  return chat;
}

/** Chat completion chunks as `data:` lines, ended by `[DONE]`; an error is a `data:` line too. */
function chatStream(encoder: ReturnType<typeof createChunker>): StreamProtocol<ChatCompletionChunk> {
  const data = (sse: SSEStreamingApi, body: unknown) => sse.writeSSE({ data: JSON.stringify(body) });
  return {
    encoder,
    write: data,
    // A comment line: clients ignore it.
    keepAlive: async (sse) => {
      await sse.write(": keep-alive\n\n");
    },
    end: (sse) => sse.writeSSE({ data: "[DONE]" }),
    error: (sse, err) => data(sse, err.body()),
  };
}
