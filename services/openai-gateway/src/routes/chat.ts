import {
  isTerminal,
  type JobRecord,
  MAX_PROMPT_CHARS,
  ModelNotSupportedError,
  type ModelPolicy,
  resolveModel,
} from "@claude-gateway/contracts";
import type { PolicyGate, Ticket } from "@claude-gateway/policy";
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import { type ChatCompletionChunk, type Chunker, createChunker } from "../core/chunks.js";
import { type CompletionContext, completionFromJob } from "../core/completion.js";
import {
  ClientClosedError,
  fromFinishedJob,
  InvalidRequestError,
  ModelNotFoundError,
  toClientError,
  UnavailableError,
} from "../core/errors.js";
import { buildPrompt } from "../core/prompt.js";
import { AGENT_HEADER, type ChatRequest, chooseAgent, parseChatRequest } from "../core/request.js";
import { type AppEnv, readJson } from "../http.js";
import type { InFlight } from "../inflight.js";
import { type JobRun, startJobRun } from "../job-run.js";
import type { WatchItem } from "../job-watch.js";
import type { Metrics } from "../metrics.js";
import type { Executor } from "../ports.js";

/** What every job the gateway submits gets, from its configuration. */
export interface JobSettings {
  /** The agent of a completion that asks for none. */
  agent: string;
  /** `--max-budget-usd`, capped at what is left of the caller's day. */
  budgetUsd: number;
  timeoutSeconds: number;
}

/**
 * A completion's in-flight slot is given back when it ends; if this replica dies first, the slot
 * lapses on its own after the job's timeout plus this much for its wait in the executor's queue.
 */
const QUEUE_ALLOWANCE_MS = 10 * 60_000;

export interface ChatDeps {
  executor: Executor;
  /** The caller policy: each completion is checked and counted here, once. */
  gate: PolicyGate;
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
    const principal = c.get("principal");
    let model = "unknown";
    let stream = false;
    let log: Logger = c.get("log");
    const finished = (outcome: string) => {
      deps.metrics.completed(deps.gate.metricLabel(principal.id), model, stream, outcome);
      log.info(
        { model, stream, outcome, ms: Math.round(performance.now() - started) },
        "completion finished",
      );
    };
    let ticket: Ticket | undefined;
    let released: Promise<void> | undefined;
    /**
     * Gives the caller's in-flight slot back once the job is over (started as soon as its end is
     * announced), and before the client hears the end: its next request finds the slot free.
     */
    const giveBack = (): Promise<void> => {
      released ??= ticket
        ? deps.inflight.track(
            ticket
              .release()
              .catch((err: unknown) => log.warn({ err }, "could not give back the in-flight slot")),
          )
        : Promise.resolve();
      return released;
    };
    let streaming = false;
    try {
      const req = parseChatRequest(await readJson(c));
      stream = req.stream;
      model = resolveRequestedModel(deps.models, req.model);
      const agent = chooseAgent({ metadata: req.agent, header: c.req.header(AGENT_HEADER) }, deps.job.agent);
      const prompt = buildPrompt(req.messages);
      if (prompt.length > MAX_PROMPT_CHARS) {
        throw new InvalidRequestError(
          `The conversation is ${prompt.length} characters as a prompt; the limit is ${MAX_PROMPT_CHARS}.`,
          "messages",
          "context_length_exceeded",
        );
      }
      // Checked and counted once, here; the job goes to the executor's admit subject (only the
      // gateway's NATS user may publish there), which checks the agent and model again and
      // records the run's spend.
      ticket = await deps.gate.admit(principal.id, {
        agent,
        model,
        leaseMs: deps.job.timeoutSeconds * 1000 + QUEUE_ALLOWANCE_MS,
      });
      const uuid = deps.newId();
      const ctx: CompletionContext = {
        id: `chatcmpl-${uuid}`,
        created: Math.floor(deps.now().getTime() / 1000),
        // The response names the model the client asked for.
        model: req.model ?? model,
      };
      const run = await startJobRun(
        deps.executor,
        {
          // The executor mints the job's id; this one (ours, scoped to the caller) ties it to the completion.
          id: `oai-${uuid}`,
          agent,
          prompt,
          model,
          budgetUsd: ticket.capBudget(deps.job.budgetUsd) ?? deps.job.budgetUsd,
          timeoutSeconds: deps.job.timeoutSeconds,
          caller: principal.id,
        },
        { idleMs: deps.idleMs, signal, logger: log, track: (w) => deps.inflight.track(w) },
      );
      log = log.child({ jobId: run.job.id });
      c.header("x-job-id", run.job.id);
      log.info({ model, stream, agent, caller: principal.name }, "completion job submitted");
      if (!req.stream) {
        const body = await deps.inflight.track(complete(run, ctx, req, giveBack).finally(giveBack));
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
      streaming = true;
      return streamSSE(c, async (sse) => {
        sse.onAbort(() => run.abandon());
        const outcome = await deps.inflight.track(
          pump(sse, run, opening, { log, firstContent, ended: giveBack }).finally(giveBack),
        );
        finished(outcome);
      });
    } catch (err) {
      finished(outcomeOf(err));
      throw err;
    } finally {
      // A stream gives the slot back when its job ends; everything else has ended here.
      if (!streaming) await giveBack();
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
async function complete(run: JobRun, ctx: CompletionContext, req: ChatRequest, ended: () => void) {
  try {
    const job = await finalOf(run.watch, ended);
    run.settle();
    return completionFromJob(ctx, job, req.stop);
  } finally {
    run.close();
  }
}

async function finalOf(watch: AsyncGenerator<WatchItem, void>, ended: () => void): Promise<JobRecord> {
  for await (const item of watch) {
    if (announcesEnd(item)) ended();
    if (item.type === "final") return item.job;
  }
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
  hooks: {
    log: Logger;
    firstContent: () => void;
    /** The job is over: called before the closing chunks (or the error) are sent. */
    ended: () => Promise<void>;
  },
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
        if (announcesEnd(item)) void hooks.ended();
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
    await hooks.ended();
    for (const chunk of chunker.finish(final)) await send(chunk);
    await sse.writeSSE({ data: "[DONE]" });
    return "succeeded";
  } catch (err) {
    // The headers are gone: the error travels as an event, which OpenAI clients raise.
    const known = toClientError(err);
    if (!known) hooks.log.error({ err }, "stream failed");
    const error =
      known ?? new UnavailableError("stream_failed", "The stream failed; see the gateway's logs.");
    if (!sse.aborted) await sse.writeSSE({ data: JSON.stringify(error.body()) });
    return outcomeOf(error);
  } finally {
    run.close();
  }
}

/** The job's terminal status: it is over (its record is read next). */
function announcesEnd(item: WatchItem): boolean {
  return item.type === "event" && item.event.type === "status" && isTerminal(item.event.status);
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
  const known = toClientError(err);
  return known ? (known.code ?? known.type) : "internal_error";
}
