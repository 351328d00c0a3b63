import {
  ClaudeApiError,
  ClaudeCancelledError,
  type ClaudeRun,
  type Invocation,
  type ParsedLine,
  parseLine,
  type ResultEvent,
  type RunOptions,
} from "@claude-gateway/claude";
import type { JobEvent, JobRecord, PlanReading } from "@claude-gateway/contracts";
import { silentLogger } from "@claude-gateway/service-kit";
import { describe, expect, it, vi } from "vitest";
import { markEnqueued, newJobRecord, withPromptByRef } from "./core/records.js";
import { HAND_BACK, type JobSandbox, type RunJob } from "./ports.js";
import { createJobRunner } from "./run-job.js";
import { memoryPayloads, memoryQueue, memoryStore } from "./test-support/memory.js";

const t0 = new Date("2026-12-04T10:00:00.000Z");

/**
 * A job runner over in-memory ports whose workspace or CLI wait until the job is stopped, or
 * (`stallIn: "nowhere"`) whose CLI answers `reply` at once.
 */
function setup(opts: {
  stallIn: "workspace" | "cli" | "nowhere";
  reply?: string;
  /** Fields of the CLI's result line beside the reply. */
  result?: Partial<ResultEvent>;
  payloads?: ReturnType<typeof memoryPayloads>;
  maxRecordBytes?: number;
  /** Lines the CLI prints before it answers (`stallIn: "nowhere"`). */
  lines?: ParsedLine[];
  /** The run fails with this instead of answering. */
  fails?: Error;
  plan?: { record(reading: PlanReading, at: Date): Promise<void> };
}) {
  const store = memoryStore();
  const queue = memoryQueue();
  const events: JobEvent[] = [];
  const prompts: string[] = [];
  const runs: RunOptions[] = [];
  let cliRuns = 0;
  const untilAborted = (signal: AbortSignal | undefined, err: () => Error) =>
    new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(err()), { once: true }));
  const sandbox = {
    home: "/h",
    configDir: "/h/.claude",
    staging: "/s",
    env: {},
    runAs: undefined,
    user: undefined,
    launcher: undefined,
    adopt: async () => {},
    placeFile: async () => {},
    takeFile: async () => "unused",
    close: async () => {},
  } as unknown as JobSandbox;
  const runJob: RunJob = createJobRunner({
    store,
    queue,
    events: { publish: (e) => void events.push(e) },
    workspaces: {
      prepare: async ({ signal }) => {
        if (opts.stallIn === "workspace")
          await untilAborted(signal, () =>
            Object.assign(new Error("stopped while waiting for space"), {
              name: "WorkspaceError",
              reason: "aborted",
            }),
          );
        return { dir: "/w", release: async () => {} };
      },
    },
    sandboxes: { open: async () => sandbox },
    transcripts: { save: async () => {}, restore: async () => false } as never,
    runClaude: (o) => {
      cliRuns++;
      prompts.push(o.prompt);
      runs.push(o);
      if (opts.stallIn === "nowhere") {
        for (const l of opts.lines ?? []) o.onEvent?.(l);
        if (opts.fails) return { done: Promise.reject(opts.fails) } as unknown as ClaudeRun;
        const text = opts.reply ?? "ok";
        const result = { ...RESULT, result: text, ...opts.result };
        return {
          done: Promise.resolve({ result, text, sessionId: "s", costUsd: 0.25, wallMs: 1, malformed: [] }),
        } as unknown as ClaudeRun;
      }
      return {
        done: untilAborted(o.signal, () => new ClaudeCancelledError(String(o.signal?.reason))),
      } as unknown as ClaudeRun;
    },
    ...(opts.payloads ? { payloads: opts.payloads } : {}),
    ...(opts.maxRecordBytes !== undefined ? { maxRecordBytes: opts.maxRecordBytes } : {}),
    ...(opts.plan ? { plan: opts.plan } : {}),
    finalWriteRetryMs: 0,
    invocationFor: () => ({ profile: { kind: "no-tools" }, session: { kind: "ephemeral" } }) as Invocation,
    claudeEnv: {},
    claudeConfigDir: "/c",
    executorId: "exec-1",
    clock: { now: () => t0 },
    logger: silentLogger,
  });
  return { store, queue, events, runJob, cliRuns: () => cliRuns, prompts, runs };
}

const RESULT: ResultEvent = {
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 1,
  num_turns: 1,
  session_id: "s",
  total_cost_usd: 0.25,
  usage: { input_tokens: 10, output_tokens: 20 },
  modelUsage: {},
  permission_denials: [],
};

async function queuedJob(
  store: ReturnType<typeof memoryStore>,
  over: (rec: JobRecord) => JobRecord = (r) => r,
): Promise<JobRecord> {
  const rec = markEnqueued(
    over(
      newJobRecord({
        id: "j1",
        submission: { agent: "general", prompt: "p" },
        model: "m",
        caller: "tok_a",
        queueToken: "first",
        now: t0,
      }),
    ),
    "first",
    t0,
  );
  await store.create(rec);
  return rec;
}

describe("a job stopped at shutdown (its grace ran out)", () => {
  it("whose CLI had not started goes back to the queue: queued under a new token, its new message confirmed", async () => {
    const { store, queue, events, runJob, cliRuns } = setup({ stallIn: "workspace" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(async () => expect((await store.get("tok_a", "j1"))!.status).toBe("running"));
    controller.abort(HAND_BACK);
    await done;
    const back = (await store.get("tok_a", "j1"))!;
    expect(back).toMatchObject({
      status: "queued",
      requeuedAt: t0.toISOString(),
      enqueuedAt: t0.toISOString(),
    });
    expect(back.queueToken).not.toBe("first");
    expect(queue.messages).toEqual([{ id: "j1", caller: "tok_a", token: back.queueToken }]);
    expect(cliRuns()).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: "status", status: "queued" });
  });

  it("whose CLI had started fails executor_stopped and is never queued again", async () => {
    const { store, queue, runJob, cliRuns } = setup({ stallIn: "cli" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(() => expect(cliRuns()).toBe(1));
    controller.abort(HAND_BACK);
    await done;
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended).toMatchObject({ status: "failed", error: { reason: "executor_stopped" } });
    expect(ended.error?.message).toContain("exec-1");
    expect(queue.messages).toEqual([]);
  });

  it("a cancel is still a cancel (not a hand-back)", async () => {
    const { store, runJob, cliRuns } = setup({ stallIn: "cli" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(() => expect(cliRuns()).toBe(1));
    controller.abort("cancelled by request");
    await done;
    expect(await store.get("tok_a", "j1")).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled" },
    });
  });
});

describe("text too large for a record", () => {
  it("a prompt kept in the payload store reaches the CLI whole", async () => {
    const payloads = memoryPayloads();
    const prompt = `${"p".repeat(5_000)}END`;
    const ref = await payloads.put("jobs/j1/prompt", prompt);
    const { store, runJob, prompts } = setup({ stallIn: "nowhere", payloads });
    const job = await queuedJob(store, (r) =>
      withPromptByRef({ ...r, submission: { ...r.submission, prompt } }, ref),
    );
    expect(job.submission.prompt).toHaveLength(1000);
    await runJob(job, new AbortController().signal);
    expect(prompts).toEqual([prompt]);
    expect(await store.get("tok_a", "j1")).toMatchObject({ status: "succeeded" });
  });

  it("a prompt the payload store no longer holds fails the job payload_unavailable, the CLI never started", async () => {
    const payloads = memoryPayloads();
    const { store, runJob, cliRuns } = setup({ stallIn: "nowhere", payloads });
    const job = await queuedJob(store, (r) => withPromptByRef(r, { object: "jobs/j1/prompt", bytes: 9_000 }));
    await runJob(job, new AbortController().signal);
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended).toMatchObject({ status: "failed", error: { reason: "payload_unavailable" } });
    expect(ended.error?.message).toContain("9000 bytes");
    expect(cliRuns()).toBe(0);
  });

  it("a reply too large for the record goes to the payload store: the record holds its beginning and the reference", async () => {
    const payloads = memoryPayloads();
    const reply = `${"r".repeat(20_000)}END`;
    const { store, runJob } = setup({ stallIn: "nowhere", payloads, reply, maxRecordBytes: 8_000 });
    await runJob(await queuedJob(store), new AbortController().signal);
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended).toMatchObject({ status: "succeeded", costUsd: 0.25 });
    expect(ended.result?.text).toBe("r".repeat(1000));
    expect(ended.result?.textRef).toEqual({ object: "jobs/j1/result", bytes: reply.length });
    expect(payloads.objects.get("jobs/j1/result")).toBe(reply);
  });

  it("a reply the payload store does not take ends the job result_too_large, its spend kept", async () => {
    const payloads = memoryPayloads();
    payloads.down = true;
    const { store, runJob } = setup({
      stallIn: "nowhere",
      payloads,
      reply: "r".repeat(20_000),
      maxRecordBytes: 8_000,
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect(await store.get("tok_a", "j1")).toMatchObject({
      status: "failed",
      error: { reason: "result_too_large" },
      costUsd: 0.25,
    });
  });

  it("a reply that fits stays in the record", async () => {
    const payloads = memoryPayloads();
    const { store, runJob } = setup({ stallIn: "nowhere", payloads, reply: "short" });
    await runJob(await queuedJob(store), new AbortController().signal);
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended.result).toMatchObject({ text: "short" });
    expect(ended.result?.textRef).toBeUndefined();
    expect(payloads.objects.size).toBe(0);
  });
});

describe("images, structured output and the stop reason", () => {
  const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(20)]).toString("base64");
  const GIF = Buffer.from("GIF89a\x01\x00\x01\x00", "latin1").toString("base64");
  const withImages = (images: NonNullable<JobRecord["submission"]["images"]>) => (r: JobRecord) => ({
    ...r,
    submission: { ...r.submission, images },
  });

  it("the CLI gets the job's images in order, inline ones from the record and the others from the payload store", async () => {
    const payloads = memoryPayloads();
    const ref = await payloads.put("incoming/tok_a/u1", GIF);
    const { store, runJob, runs } = setup({ stallIn: "nowhere", payloads });
    const job = await queuedJob(
      store,
      withImages([
        { mediaType: "image/png", data: PNG },
        { mediaType: "image/gif", ref },
      ]),
    );
    await runJob(job, new AbortController().signal);
    expect(runs[0]?.images).toEqual([
      { mediaType: "image/png", data: PNG },
      { mediaType: "image/gif", data: GIF },
    ]);
    expect(await store.get("tok_a", "j1")).toMatchObject({ status: "succeeded" });
  });

  it("no images: the CLI is given none", async () => {
    const { store, runJob, runs } = setup({ stallIn: "nowhere" });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect(runs[0]).not.toHaveProperty("images");
  });

  it("an image the payload store does not hold fails the job payload_unavailable; one that is no image, invalid_request; the CLI never starts", async () => {
    const payloads = memoryPayloads();
    const notImage = await payloads.put("incoming/tok_a/txt", Buffer.from("just text").toString("base64"));
    for (const [image, reason] of [
      [{ mediaType: "image/png", ref: { object: "incoming/tok_a/gone", bytes: 40 } }, "payload_unavailable"],
      [{ mediaType: "image/png", ref: notImage }, "invalid_request"],
    ] as const) {
      const { store, runJob, cliRuns } = setup({ stallIn: "nowhere", payloads });
      await runJob(await queuedJob(store, withImages([image])), new AbortController().signal);
      const ended = (await store.get("tok_a", "j1"))!;
      expect(ended).toMatchObject({ status: "failed", error: { reason } });
      expect(ended.error?.message).toContain(image.ref.object);
      expect(cliRuns()).toBe(0);
    }
  });

  it("records the structured output and the stop reason the CLI's result gives", async () => {
    const value = { city: "Sofia", population: 1_200_000 };
    const { store, runJob } = setup({
      stallIn: "nowhere",
      reply: JSON.stringify(value),
      result: { structured_output: value, stop_reason: "tool_use" },
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect((await store.get("tok_a", "j1"))!.result).toEqual({
      text: JSON.stringify(value),
      sessionId: "s",
      numTurns: 1,
      permissionDenials: 0,
      structuredOutput: value,
      stopReason: "tool_use",
    });
  });

  it("a result without them records neither (a null stop reason is none)", async () => {
    const { store, runJob } = setup({ stallIn: "nowhere", result: { stop_reason: null } });
    await runJob(await queuedJob(store), new AbortController().signal);
    const { result } = (await store.get("tok_a", "j1"))!;
    expect(result).not.toHaveProperty("structuredOutput");
    expect(result).not.toHaveProperty("stopReason");
  });

  it("a structured output too large for the record goes with its text to the payload store", async () => {
    const payloads = memoryPayloads();
    const value = { rows: "v".repeat(20_000) };
    const { store, runJob } = setup({
      stallIn: "nowhere",
      payloads,
      reply: JSON.stringify(value),
      result: { structured_output: value, stop_reason: "tool_use" },
      maxRecordBytes: 8_000,
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended).toMatchObject({ status: "succeeded", result: { stopReason: "tool_use" } });
    expect(ended.result).not.toHaveProperty("structuredOutput");
    expect(JSON.parse(payloads.objects.get(ended.result!.textRef!.object)!)).toEqual(value);
  });
});

describe("the plan's utilisation", () => {
  const rateLimitLine = (status: string) =>
    parseLine(
      JSON.stringify({
        type: "rate_limit_event",
        session_id: "s",
        rate_limit_info: {
          status,
          resetsAt: 1796418101,
          rateLimitType: "five_hour",
          isUsingOverage: false,
          unifiedWindows: { five_hour: { utilization: 1, resetsAt: 1796418101, status } },
        },
      }),
    )!;

  it("every rate_limit line the CLI prints is recorded, observed at the clock's time, not a job event", async () => {
    const recorded: Array<[PlanReading, Date]> = [];
    const { store, events, runJob } = setup({
      stallIn: "nowhere",
      lines: [rateLimitLine("allowed_warning")],
      plan: { record: async (r, at) => void recorded.push([r, at]) },
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect(recorded).toEqual([
      [
        {
          type: "rate_limit",
          status: "allowed_warning",
          window: "five_hour",
          resetsAt: 1796418101,
          usingOverage: false,
          windows: [{ window: "five_hour", utilization: 1, resetsAt: 1796418101, status: "allowed_warning" }],
        },
        t0,
      ],
    ]);
    expect(events.map((e) => e.type)).toEqual(["status", "result", "status"]);
  });

  it("a run refused at the plan's limit reports its error only once the plan's record is written", async () => {
    let errorBeforeWritten: boolean | undefined;
    const { store, events, runJob } = setup({
      stallIn: "nowhere",
      lines: [rateLimitLine("rejected")],
      fails: new ClaudeApiError("You've hit your 5-hour limit", 429),
      plan: {
        // The write lands after everything else pending has run: an error not waiting for it would be out.
        record: () =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              errorBeforeWritten = events.some((e) => e.type === "error");
              resolve();
            }),
          ),
      },
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect(errorBeforeWritten).toBe(false);
    expect(events.find((e) => e.type === "error")).toMatchObject({ reason: "upstream_error" });
    expect((await store.get("tok_a", "j1"))!.status).toBe("failed");
  });

  it("a record that fails (the store away) fails nothing: the job's answer goes out", async () => {
    const { store, runJob } = setup({
      stallIn: "nowhere",
      lines: [rateLimitLine("allowed")],
      plan: { record: async () => Promise.reject(new Error("NATS away")) },
    });
    await runJob(await queuedJob(store), new AbortController().signal);
    expect((await store.get("tok_a", "j1"))!.status).toBe("succeeded");
  });
});
