import { isTerminal, type JobRecord, type JobSession, jobIdFor } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import { Hono } from "hono";
import type { SSEStreamingApi } from "hono/streaming";
import { InvalidRequestError, JobFailedError, UnavailableError } from "../core/errors.js";
import { AGENT_HEADER, chooseAgent } from "../core/request.js";
import { previousResponseError, ResponseNotFoundError } from "../core/responses/errors.js";
import { jobClientIdOf, RESPONSE_JOB_PREFIX, uuidOfResponseId } from "../core/responses/ids.js";
import { imageSourcesOf, promptOf } from "../core/responses/input.js";
import { parseResponsesRequest, type ResponsesRequest } from "../core/responses/request.js";
import {
  completedResponse,
  pausedResponse,
  type RequestEcho,
  type ResponseShape,
  storedResponse,
} from "../core/responses/response.js";
import {
  createResponseEncoder,
  type ResponseEncoder,
  type ResponseStreamEvent,
} from "../core/responses/stream.js";
import { type AppEnv, readJson } from "../http.js";
import { type JobRequestDeps, type ResponseContext, serveJobRequest } from "../job-request.js";
import type { StreamProtocol } from "../job-stream.js";
import type { Executor } from "../ports.js";

/**
 * `POST /responses` (OpenAI's Responses API): one request, one executor job. A stored response
 * (`store`, the default) runs in a new CLI session; `previous_response_id` continues a fork of that
 * session, so every response stays continuable and a conversation may branch. A response may
 * offer the caller's function tools; when the model calls them it completes with the calls, and the
 * request whose input ends with their outputs continues the same job (its calls' ids name it, so
 * such a request needs no `previous_response_id`, and one it has is not looked up).
 * `GET /responses/{id}` reads a stored response back from its job.
 */
export function responseRoutes(deps: JobRequestDeps): Hono<AppEnv> {
  const responses = new Hono<AppEnv>();
  responses.post("/responses", (c) => {
    let continued: string | undefined;
    return serveJobRequest<ResponseStreamEvent>(deps, c, async () => {
      const req = parseResponsesRequest(await readJson(c));
      // Everything the request says alone is checked before the executor is asked anything.
      const asked = chooseAgent({ metadata: req.agent, header: c.req.header(AGENT_HEADER) });
      const prompt = promptOf(req);
      const sources = imageSourcesOf(req.input);
      // A continuation goes to the paused job its calls name: there is no session to look up.
      const previous =
        req.previousResponseId && !req.toolResults
          ? await previousResponse(deps.executor, c.get("principal").id, req.previousResponseId)
          : undefined;
      continued = req.toolResults ? undefined : req.previousResponseId;
      const session: JobSession | undefined = previous
        ? { kind: "resume", id: previous.sessionId, fork: true }
        : req.store
          ? { kind: "new" }
          : undefined;
      const shape = (ctx: ResponseContext): ResponseShape => ({
        uuid: ctx.uuid,
        createdAt: ctx.created,
        model: ctx.model,
        echo: echoOf(req),
      });
      return {
        requestedModel: req.model,
        stream: req.stream,
        // A continuation runs the agent of the response it continues unless it asks for another.
        agent: asked ?? previous?.agent,
        images: sources,
        promptParam: "input",
        job: {
          prompt,
          ...(req.jsonSchema ? { jsonSchema: req.jsonSchema } : {}),
          ...(session ? { session } : {}),
          ...(req.tools ? { tools: req.tools } : {}),
        },
        ...(req.toolResults ? { toolResults: req.toolResults } : {}),
        idPrefix: RESPONSE_JOB_PREFIX,
        complete: (job, ctx) => completedResponse(shape(ctx), job, req.jsonSchema),
        completeToolCalls: (pending, ctx) => pausedResponse(shape(ctx), ctx.job.id, pending),
        stream$: (ctx) =>
          responsesStream(createResponseEncoder(shape(ctx), { jobId: ctx.job.id, schema: req.jsonSchema })),
      };
    }).catch((err: unknown) => {
      throw continued !== undefined && lostSession(err)
        ? previousResponseError(continued, "unavailable")
        : err;
    });
  });
  responses.get("/responses/:id", async (c) => {
    const id = c.req.param("id");
    if (c.req.query("stream") === "true") {
      throw new InvalidRequestError(
        "Streaming a stored response again is not supported; read it whole.",
        "stream",
        "unsupported_parameter",
      );
    }
    const job = await responseJob(deps.executor, c.get("principal").id, id);
    if (!job) throw new ResponseNotFoundError(id);
    return c.json(storedResponse(job));
  });
  return responses;
}

/**
 * The job of one of the caller's stored responses, or undefined: an id this gateway never gave,
 * another caller's (the executor answers only the caller's own jobs) and a `store: false`
 * response (it kept no session) are all not found, as OpenAI has them.
 */
async function responseJob(
  executor: Executor,
  caller: string,
  responseId: string,
): Promise<JobRecord | undefined> {
  const uuid = uuidOfResponseId(responseId);
  if (!uuid) return undefined;
  try {
    const job = await executor.get({ id: jobIdFor(caller, jobClientIdOf(uuid)), caller });
    return job.submission.session ? job : undefined;
  } catch (err) {
    if (err instanceof RemoteServiceError && err.status === 404) return undefined;
    throw err;
  }
}

/** The session (and agent) a `previous_response_id` continues; throws the 400 OpenAI gives. */
async function previousResponse(
  executor: Executor,
  caller: string,
  responseId: string,
): Promise<{ sessionId: string; agent: string }> {
  const job = await responseJob(executor, caller, responseId);
  if (!job) throw previousResponseError(responseId, "not_found");
  if (!isTerminal(job.status)) throw previousResponseError(responseId, "in_progress");
  if (job.status !== "succeeded" || !job.result) throw previousResponseError(responseId, "failed");
  return { sessionId: job.result.sessionId, agent: job.agent };
}

/** The executor no longer has the session a continuation resumes (expired, or its transcript lost). */
function lostSession(err: unknown): boolean {
  if (err instanceof JobFailedError) return err.code === "session_not_found";
  const cause = err instanceof UnavailableError ? err.cause : err;
  return cause instanceof RemoteServiceError && cause.code === "session_not_found";
}

function echoOf(req: ResponsesRequest): RequestEcho {
  return {
    instructions: req.instructions,
    previousResponseId: req.previousResponseId ?? null,
    format: req.format,
    metadata: req.metadata,
    parallelToolCalls: req.parallelToolCalls,
    toolChoice: req.toolChoice,
    tools: req.functionTools,
  };
}

/** Responses events as SSE with their type as the `event:` line; no `[DONE]` (OpenAI sends none). */
function responsesStream(encoder: ResponseEncoder): StreamProtocol<ResponseStreamEvent> {
  const write = (sse: SSEStreamingApi, frame: ResponseStreamEvent) =>
    sse.writeSSE({ event: frame.type, data: JSON.stringify(frame) });
  return {
    encoder,
    write,
    // A comment line: clients ignore it.
    keepAlive: async (sse) => {
      await sse.write(": keep-alive\n\n");
    },
    error: async (sse, err) => {
      for (const frame of encoder.fail(err)) await write(sse, frame);
    },
  };
}
