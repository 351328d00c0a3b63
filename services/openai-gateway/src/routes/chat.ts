import {
  type JobRecord,
  MAX_PROMPT_CHARS,
  ModelNotSupportedError,
  type ModelPolicy,
  resolveModel,
} from "@claude-gateway/contracts";
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import { type ChatCompletionChunk, type Chunker, createChunker } from "../core/chunks.js";
import { type CompletionContext, completionFromJob } from "../core/completion.js";
import {
  ClientClosedError,
  fromExecutorError,
  fromFinishedJob,
  GatewayError,
  InvalidRequestError,
  ModelNotFoundError,
  UnavailableError,
} from "../core/errors.js";
import { buildPrompt } from "../core/prompt.js";
import { type ChatRequest, parseChatRequest } from "../core/request.js";
import { type AppEnv, readJson } from "../http.js";
import type { InFlight } from "../inflight.js";
import { type JobRun, startJobRun } from "../job-run.js";
import type { WatchItem } from "../job-watch.js";
import type { Metrics } from "../metrics.js";
import type { Executor } from "../ports.js";

/** What every job the gateway submits gets, from its configuration. */
export interface JobSettings {
  agent: string;
  budgetUsd: number;
  timeoutSeconds: number;
}

export interface ChatDeps {
  executor: Executor;
  models: ModelPolicy;
  job: JobSettings;
  metrics: Metrics;
  inflight: InFlight;
  /** Silence after which a job's record is read (events may have been lost). */
  idleMs: number;
  /**
   * How long a stream's headers wait for the first text. A job that fails before it says anything
   * then gets a real HTTP status; after this the stream starts and a failure arrives in it.
   */
  holdMs: number;
  now: () => Date;
  newId: () => string;
}

/** `POST /chat/completions`: one request, one executor job. */
export function chatRoutes(deps: ChatDeps): Hono<AppEnv> {
  const chat = new Hono<AppEnv>();
  chat.post("/chat/completions", async (c) => {
    // node-server creates the request's abort signal lazily: touching it now is what lets a
    // disconnect reach it.
    const signal = c.req.raw.signal;
    const started = performance.now();
    let model = "unknown";
    let stream = false;
    let log: Logger = c.get("log");
    const finished = (outcome: string) => {
      deps.metrics.completed(model, stream, outcome);
      log.info(
        { model, stream, outcome, ms: Math.round(performance.now() - started) },
        "completion finished",
      );
    };
    try {
      const req = parseChatRequest(await readJson(c));
      stream = req.stream;
      model = resolveRequestedModel(deps.models, req.model);
      const prompt = buildPrompt(req.messages);
      if (prompt.length > MAX_PROMPT_CHARS) {
        throw new InvalidRequestError(
          `The conversation is ${prompt.length} characters as a prompt; the limit is ${MAX_PROMPT_CHARS}.`,
          "messages",
          "context_length_exceeded",
        );
      }
      const uuid = deps.newId();
      const ctx: CompletionContext = {
        id: `chatcmpl-${uuid}`,
        created: Math.floor(deps.now().getTime() / 1000),
        // The response names the model the client asked for.
        model: req.model ?? model,
      };
      log = log.child({ jobId: `oai-${uuid}` });
      const run = await startJobRun(
        deps.executor,
        {
          id: `oai-${uuid}`,
          agent: deps.job.agent,
          prompt,
          model,
          budgetUsd: deps.job.budgetUsd,
          timeoutSeconds: deps.job.timeoutSeconds,
          caller: c.get("principal").name,
        },
        { idleMs: deps.idleMs, signal, logger: log, track: (w) => deps.inflight.track(w) },
      );
      c.header("x-job-id", run.job.id);
      log.info({ model, stream, caller: c.get("principal").name }, "completion job submitted");
      if (!req.stream) {
        const body = await deps.inflight.track(complete(run, ctx, req));
        finished("succeeded");
        return c.json(body);
      }
      const opening = await holdForText(
        run,
        createChunker({ ...ctx, includeUsage: req.includeUsage }, req.stop),
        deps,
      );
      const firstContent = () => deps.metrics.firstContent(model, (performance.now() - started) / 1000);
      if (opening.chunker.hasContent) firstContent();
      return streamSSE(c, async (sse) => {
        sse.onAbort(() => run.abandon());
        const outcome = await deps.inflight.track(pump(sse, run, opening, { log, firstContent }));
        finished(outcome);
      });
    } catch (err) {
      finished(outcomeOf(err));
      throw err;
    }
  });
  return chat;
}

function resolveRequestedModel(policy: ModelPolicy, requested: string | undefined): string {
  try {
    return resolveModel(policy, requested);
  } catch (err) {
    if (err instanceof ModelNotSupportedError) throw new ModelNotFoundError(err.message);
    throw err;
  }
}

/** Waits for the job's end; its record becomes the completion or the client's error. */
async function complete(run: JobRun, ctx: CompletionContext, req: ChatRequest) {
  try {
    const job = await finalOf(run.watch);
    run.settle();
    return completionFromJob(ctx, job, req.stop);
  } finally {
    run.close();
  }
}

async function finalOf(watch: AsyncGenerator<WatchItem, void>): Promise<JobRecord> {
  for await (const item of watch) if (item.type === "final") return item.job;
  // The watch ends without a record only when the client went away.
  throw new ClientClosedError();
}

interface Opening {
  chunker: Chunker;
  /** Chunks produced while the headers waited. */
  buffered: ChatCompletionChunk[];
  /** The job's record, if it ended (successfully) while the headers waited. */
  final: JobRecord | undefined;
  /** A read of the watch still in progress, carried into the stream. */
  pending: Promise<IteratorResult<WatchItem, void>> | undefined;
}

const HOLD_OVER = Symbol("hold over");

/** Reads the job until its first text, its end, or `holdMs`; a failure before any text is thrown. */
async function holdForText(run: JobRun, chunker: Chunker, deps: Pick<ChatDeps, "holdMs">): Promise<Opening> {
  const opening: Opening = { chunker, buffered: [], final: undefined, pending: undefined };
  const deadline = performance.now() + deps.holdMs;
  try {
    while (!chunker.hasContent && !opening.final) {
      opening.pending ??= run.watch.next();
      const r = await beforeDeadline(opening.pending, deadline - performance.now());
      if (r === HOLD_OVER) break;
      opening.pending = undefined;
      if (r.done) throw new ClientClosedError();
      const item = r.value;
      if (item.type === "event") opening.buffered.push(...chunker.push(item.event));
      if (item.type === "final") {
        run.settle();
        if (item.job.status !== "succeeded") throw fromFinishedJob(item.job);
        opening.final = item.job;
      }
    }
    return opening;
  } catch (err) {
    run.close();
    throw err;
  }
}

/** Sends the stream: what was held, then live chunks, then the end. Returns the outcome for metrics. */
async function pump(
  sse: SSEStreamingApi,
  run: JobRun,
  opening: Opening,
  hooks: { log: Logger; firstContent: () => void },
): Promise<string> {
  const { chunker } = opening;
  const send = (chunk: ChatCompletionChunk) => sse.writeSSE({ data: JSON.stringify(chunk) });
  let final = opening.final;
  let pending = opening.pending;
  try {
    for (const chunk of [...opening.buffered, ...chunker.open()]) await send(chunk);
    while (!final) {
      pending ??= run.watch.next();
      const r = await pending;
      pending = undefined;
      if (r.done) return "client_closed";
      const item = r.value;
      if (item.type === "event") {
        const hadContent = chunker.hasContent;
        for (const chunk of chunker.push(item.event)) await send(chunk);
        if (!hadContent && chunker.hasContent) hooks.firstContent();
      } else if (item.type === "idle") {
        // A comment line: keeps proxies from closing a quiet stream; clients ignore it.
        await sse.write(": keep-alive\n\n");
      } else {
        final = item.job;
        run.settle();
      }
    }
    for (const chunk of chunker.finish(final)) await send(chunk);
    await sse.writeSSE({ data: "[DONE]" });
    return "succeeded";
  } catch (err) {
    // The headers are gone: the error travels as an event, which OpenAI clients raise.
    const known = err instanceof GatewayError ? err : fromExecutorError(err);
    if (!known) hooks.log.error({ err }, "stream failed");
    const error =
      known ?? new UnavailableError("stream_failed", "The stream failed; see the gateway's logs.");
    if (!sse.aborted) await sse.writeSSE({ data: JSON.stringify(error.body()) });
    return outcomeOf(error);
  } finally {
    run.close();
  }
}

function beforeDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof HOLD_OVER> {
  if (ms <= 0) return Promise.resolve(HOLD_OVER);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<typeof HOLD_OVER>((resolve) => {
      timer = setTimeout(() => resolve(HOLD_OVER), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The metrics label of a request that did not succeed. */
function outcomeOf(err: unknown): string {
  if (err instanceof ClientClosedError) return "client_closed";
  if (err instanceof GatewayError) return err.code ?? err.type;
  return "internal_error";
}
