import {
  type JobRecord,
  type JobSubmission,
  jobIdFor,
  MAX_PROMPT_CHARS,
  ModelNotSupportedError,
  type ModelPolicy,
  type PendingToolCalls,
  resolveModel,
  type ToolResult,
} from "@claude-gateway/contracts";
import type { PolicyGate, Ticket } from "@claude-gateway/policy";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import type { ImageResolver } from "./adapters/image-fetch.js";
import { InvalidRequestError, ModelNotFoundError } from "./core/errors.js";
import type { RequestImage } from "./core/images.js";
import type { AppEnv } from "./http.js";
import type { InFlight } from "./inflight.js";
import { continueJobRun, type JobRun, startJobRun } from "./job-run.js";
import { completeJob, holdForContent, outcomeOf, pumpStream, type StreamProtocol } from "./job-stream.js";
import type { Metrics } from "./metrics.js";
import type { Executor } from "./ports.js";

/** What every job the gateway submits gets, from its configuration. */
export interface JobSettings {
  /** The agent of a completion that asks for none. */
  agent: string;
  /** `--max-budget-usd`, capped at what is left of the caller's day. */
  budgetUsd: number;
  timeoutSeconds: number;
  /** `GATEWAY_REPO`: every completion runs in a checkout of it (else in an empty directory). */
  repo?: string | undefined;
  /** `GATEWAY_REF`: the branch, tag or commit of `repo` (its default branch when unset). */
  ref?: string | undefined;
}

/**
 * A request's in-flight slot is given back when it ends; if this replica dies first, the slot
 * lapses on its own after the job's timeout plus this much for its wait in the executor's queue.
 */
const QUEUE_ALLOWANCE_MS = 10 * 60_000;

export interface JobRequestDeps {
  executor: Executor;
  /** The caller policy: each request is checked and counted here, once. */
  gate: PolicyGate;
  models: ModelPolicy;
  job: JobSettings;
  metrics: Metrics;
  inflight: InFlight;
  /** Silence after which a job's record is read (events may have been lost). */
  idleMs: number;
  /**
   * How long a stream's headers wait for the first content. A job that fails before it says
   * anything then gets a real HTTP status; after this the stream starts and a failure arrives in it.
   */
  holdMs: number;
  now: () => Date;
  newId: () => string;
  /** Turns the images a request names into the job's (fetching allowlisted URLs). */
  images: ImageResolver;
}

/** A validated request of any of the gateway's APIs, as the job it becomes. */
export interface PreparedRequest<Frame> {
  /** The model the client named (undefined: the default). */
  requestedModel: string | undefined;
  stream: boolean;
  /** The agent asked for (metadata or header), already a valid name; else the gateway's default. */
  agent: string | undefined;
  /**
   * What the job runs: the prompt and whatever else the request carries; `tools` are the caller's
   * own (client tool calling), absent when it offers none or says `tool_choice: none`.
   */
  job: Pick<JobSubmission, "prompt" | "jsonSchema" | "session" | "tools">;
  /**
   * The request answers the tool calls a job of this caller paused on (decoded from the calls' ids
   * the gateway gave out): the job goes on with these results instead of a new job being submitted,
   * and this request's answer is what the model says next. `param` names the request's field that
   * holds them, for errors.
   */
  toolResults?: { jobId: string; results: ToolResult[]; param: string };
  /**
   * The request's images, in the order of their `[image n]` markers in the prompt; resolved
   * (decoded, or fetched from an allowlisted host) only once the request is admitted.
   */
  images?: RequestImage[];
  /** The request's field that holds the conversation (for a prompt too long): `messages`, `input`. */
  promptParam?: string;
  /** The job's own id prefix (the client's API): `oai`, `msg`, `resp`. */
  idPrefix: string;
  /** The non-streamed answer of a finished job; throws the client's error for a failed one. */
  complete(job: JobRecord, ctx: ResponseContext): unknown;
  /**
   * The non-streamed answer of a job that paused on calls of the caller's tools: the calls (with
   * the ids the gateway gives out for them) and the text of the message that made them. (A stream
   * ends the same way once its encoder is pushed the `tool_calls` event.)
   */
  completeToolCalls(pending: PendingToolCalls, ctx: ResponseContext): unknown;
  /** The streamed answer: how job events become the API's events. */
  stream$(ctx: ResponseContext): StreamProtocol<Frame>;
}

/** What the answer of one request knows besides the job. */
export interface ResponseContext {
  /** The uuid of this request (each API prefixes it for its own ids). */
  uuid: string;
  /** Unix seconds. */
  created: number;
  /** The model id the client asked for, or the default when it named none. */
  model: string;
  /** The job (its id, caller, agent). */
  job: JobRecord;
}

/**
 * Serves one request of any of the gateway's APIs as one executor job: validates (by `prepare`),
 * checks and counts it against the caller's policy, submits it, and answers when it ends — or
 * streams it, holding the headers until its first content so that an early failure still gets a
 * real HTTP status. Errors before the headers are thrown (the app renders them in the API's shape).
 */
export async function serveJobRequest<Frame>(
  deps: JobRequestDeps,
  c: Context<AppEnv>,
  prepare: () => Promise<PreparedRequest<Frame>>,
): Promise<Response> {
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
    log.info({ model, stream, outcome, ms: Math.round(performance.now() - started) }, "request finished");
  };
  let ticket: Ticket | undefined;
  /**
   * The caller's in-flight slot held by a job with the caller's tools (admitted under the job's
   * id): it stays taken while the job waits for the client's results, and the executor gives it
   * back when the job ends; the request that sees the end gives it back first.
   */
  let toolJobSlot: string | undefined;
  /** The job paused on tool calls: its slot stays with it. */
  let paused = false;
  let released: Promise<void> | undefined;
  /**
   * Gives the caller's in-flight slot back once the job is over (started as soon as its end is
   * announced), and before the client hears the end: its next request finds the slot free.
   */
  const giveBack = (): Promise<void> => {
    const release = paused
      ? undefined
      : ticket
        ? () => ticket!.release()
        : toolJobSlot !== undefined
          ? () => deps.gate.release(principal.id, toolJobSlot!)
          : undefined;
    released ??= release
      ? deps.inflight.track(
          release().catch((err: unknown) => log.warn({ err }, "could not give back the in-flight slot")),
        )
      : Promise.resolve();
    return released;
  };
  const pause = () => {
    paused = true;
  };
  let streaming = false;
  try {
    const req = await prepare();
    stream = req.stream;
    let uuid = deps.newId();
    const runOptions = {
      idleMs: deps.idleMs,
      signal,
      logger: log,
      track: (w: Promise<unknown>) => deps.inflight.track(w),
    };
    let run: JobRun;
    if (req.toolResults) {
      // The client's results for the calls its job paused on: that job goes on (it was admitted
      // and is counted already); this request answers with what the model says next.
      run = await continueJobRun(deps.executor, { ...req.toolResults, caller: principal.id }, runOptions);
      model = run.job.model;
      toolJobSlot = run.job.id;
      // The same job answers under the same id (a Responses id names its job: a later
      // `previous_response_id` of the final answer continues that job's session).
      const own = run.job.clientId;
      if (own?.startsWith(`${req.idPrefix}-`)) uuid = own.slice(req.idPrefix.length + 1);
    } else {
      model = resolveRequestedModel(deps.models, req.requestedModel);
      const agent = req.agent ?? deps.job.agent;
      if (req.job.prompt.length > MAX_PROMPT_CHARS) {
        throw new InvalidRequestError(
          `The conversation is ${req.job.prompt.length} characters as a prompt; the limit is ${MAX_PROMPT_CHARS}.`,
          req.promptParam ?? "messages",
          "context_length_exceeded",
        );
      }
      // Checked and counted once, here; the job goes to the executor's admit subject (only the
      // gateway's NATS user may publish there), which checks the agent and model again and records
      // the run's spend.
      const clientId = `${req.idPrefix}-${uuid}`;
      ticket = await deps.gate.admit(principal.id, {
        agent,
        model,
        leaseMs: deps.job.timeoutSeconds * 1000 + QUEUE_ALLOWANCE_MS,
        // A job with the caller's tools takes the slot over (see `toolJobSlot`).
        ...(req.job.tools ? { leaseId: jobIdFor(principal.id, clientId) } : {}),
      });
      // Fetching a remote image costs the gateway: only for a request its caller may make.
      const images = req.images?.length
        ? await Promise.all(req.images.map((image) => deps.images(image.source, image.param)))
        : undefined;
      const repo = deps.job.repo;
      run = await startJobRun(
        deps.executor,
        {
          // The executor mints the job's id; this one (ours, scoped to the caller) ties it to the request.
          id: clientId,
          agent,
          ...withoutUndefined(req.job),
          ...(images ? { images } : {}),
          model,
          budgetUsd: ticket.capBudget(deps.job.budgetUsd) ?? deps.job.budgetUsd,
          timeoutSeconds: deps.job.timeoutSeconds,
          ...(repo !== undefined
            ? { repo, ...(deps.job.ref !== undefined ? { ref: deps.job.ref } : {}) }
            : {}),
          caller: principal.id,
        },
        runOptions,
      );
    }
    const ctx: ResponseContext = {
      uuid,
      created: Math.floor(deps.now().getTime() / 1000),
      // The response names the model the client asked for.
      model: req.requestedModel ?? model,
      job: run.job,
    };
    log = log.child({ jobId: run.job.id });
    c.header("x-job-id", run.job.id);
    log.info(
      {
        model,
        stream,
        agent: run.job.agent,
        caller: principal.name,
        toolResults: req.toolResults !== undefined,
      },
      req.toolResults ? "job continued with tool results" : "job submitted",
    );
    if (!req.stream) {
      const end = await deps.inflight.track(
        completeJob(run, giveBack)
          .then((e) => {
            if (e.paused) pause();
            return e;
          })
          .finally(giveBack),
      );
      const body = end.paused ? req.completeToolCalls(end.paused, ctx) : req.complete(end.job, ctx);
      finished(end.paused ? "tool_calls" : "succeeded");
      return c.json(body as object);
    }
    const protocol = req.stream$(ctx);
    const opening = await holdForContent(run, protocol.encoder, deps.holdMs);
    const firstContent = () => deps.metrics.firstContent(model, (performance.now() - started) / 1000);
    if (protocol.encoder.hasContent) firstContent();
    streaming = true;
    return streamSSE(c, async (sse) => {
      sse.onAbort(() => run.abandon());
      const outcome = await deps.inflight.track(
        pumpStream(sse, run, opening, protocol, {
          log,
          firstContent,
          ended: giveBack,
          paused: pause,
        }).finally(giveBack),
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
}

function resolveRequestedModel(policy: ModelPolicy, requested: string | undefined): string {
  try {
    return resolveModel(policy, requested);
  } catch (err) {
    if (err instanceof ModelNotSupportedError) throw new ModelNotFoundError(err.message);
    throw err;
  }
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
