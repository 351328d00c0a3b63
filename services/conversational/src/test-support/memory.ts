import { appendFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  ClaudeCancelledError,
  type ClaudeError,
  type ClaudeRun,
  ClaudeSessionNotFoundError,
  type ParsedLine,
  ResultEvent,
  type RunOptions,
  type RunResult,
} from "@claude-gateway/claude";
import type { ConversationRecord } from "../core/record.js";
import type { LockKv } from "../lock.js";
import type { ClaudeRunner, ConversationStore, TranscriptStore } from "../ports.js";

/** In-memory adapters and a scripted CLI for unit tests of the service, the lock and the app. */

export function memoryStore(): ConversationStore & {
  records: Map<string, ConversationRecord>;
  fail: boolean;
} {
  const records = new Map<string, ConversationRecord>();
  const s = {
    records,
    fail: false,
    get: async (id: string) => {
      if (s.fail) throw new Error("store down");
      return records.get(id) ?? null;
    },
    create: async (record: ConversationRecord) => {
      if (records.has(record.conversationId)) throw new Error(`${record.conversationId} exists`);
      records.set(record.conversationId, record);
    },
    put: async (record: ConversationRecord) => {
      records.set(record.conversationId, record);
    },
  };
  return s;
}

export function memoryTranscripts(): TranscriptStore & {
  blobs: Map<string, Buffer>;
  failSave: boolean;
  restores: string[];
} {
  const blobs = new Map<string, Buffer>();
  const t = {
    blobs,
    failSave: false,
    restores: [] as string[],
    async restore(sessionId: string, path: string) {
      t.restores.push(sessionId);
      const data = blobs.get(sessionId);
      if (!data) return false;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
      return true;
    },
    async save(sessionId: string, path: string) {
      if (t.failSave) throw new Error("object store down");
      blobs.set(sessionId, await readFile(path));
    },
  };
  return t;
}

/** A KV with revisions and revision-checked writes, like NATS KV (create works over a tombstone). */
export function memoryLockKv(): LockKv & { entries: Map<string, { value: Uint8Array; revision: number }> } {
  const entries = new Map<string, { value: Uint8Array; revision: number }>();
  let seq = 0;
  return {
    entries,
    async create(key, value) {
      if (entries.has(key)) return null;
      entries.set(key, { value, revision: ++seq });
      return seq;
    },
    async get(key) {
      return entries.get(key) ?? null;
    },
    async update(key, value, revision) {
      if (entries.get(key)?.revision !== revision) return null;
      entries.set(key, { value, revision: ++seq });
      return seq;
    },
    async delete(key, revision) {
      if (entries.get(key)?.revision !== revision) return false;
      entries.delete(key);
      seq++;
      return true;
    },
  };
}

/** What the scripted CLI does for one run. */
export interface ScriptedRun {
  /** The reply, streamed as text deltas of `chunkSize` characters. */
  text?: string;
  chunkSize?: number;
  /** Fail with this error instead (after streaming `text`, if given). */
  error?: ClaudeError;
  /** Lines the CLI prints after the reply's text (e.g. `rate_limit_event`). */
  lines?: ParsedLine[];
  /** The run waits for this before answering (to hold a turn open). */
  gate?: Promise<void>;
  costUsd?: number;
}

export interface FakeClaude extends ClaudeRunner {
  calls: RunOptions[];
  /** Runs at once, right now. */
  active: number;
  maxActive: number;
}

/**
 * A CLI stand-in that behaves like the real one where the service depends on it: a new session
 * writes its transcript under the cwd's project folder; `--resume` of a session whose transcript
 * is not there fails with `ClaudeSessionNotFoundError`; each turn appends to the transcript.
 */
export function fakeClaude(
  claudeConfigDir: string,
  script: (opts: RunOptions, call: number) => ScriptedRun,
  transcriptOf: (configDir: string, cwd: string, sessionId: string) => string,
): FakeClaude {
  const fake = ((opts: RunOptions): ClaudeRun => {
    const call = fake.calls.push(opts) - 1;
    const plan = script(opts, call);
    const session = opts.invocation.session;
    const sessionId = session.kind === "ephemeral" ? "ephemeral" : (session.id ?? "minted");
    fake.active++;
    fake.maxActive = Math.max(fake.maxActive, fake.active);
    const done = (async (): Promise<RunResult> => {
      try {
        const path = transcriptOf(claudeConfigDir, opts.cwd, sessionId);
        if (session.kind === "resume" && !(await exists(path)))
          throw new ClaudeSessionNotFoundError(sessionId);
        if (plan.gate) await untilAborted(plan.gate, opts.signal);
        const text = plan.text ?? "";
        const size = plan.chunkSize ?? 5;
        for (let i = 0; i < text.length; i += size) {
          opts.onEvent?.(deltaLine(text.slice(i, i + size)));
        }
        opts.onEvent?.({ type: "stream_event", event: { type: "message_stop" } } as ParsedLine);
        for (const line of plan.lines ?? []) opts.onEvent?.(line);
        if (plan.error) throw plan.error;
        await mkdir(dirname(path), { recursive: true });
        await appendFile(path, `${JSON.stringify({ prompt: opts.prompt, reply: text })}\n`);
        const result = ResultEvent.parse({
          type: "result",
          subtype: "success",
          is_error: false,
          session_id: sessionId,
          result: text,
          total_cost_usd: plan.costUsd ?? 0.002,
          usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 5 },
          modelUsage: {
            [`${opts.invocation.model ?? "claude-haiku-4-5"}`]: {
              inputTokens: 100,
              outputTokens: 20,
              cacheReadInputTokens: 5,
              cacheCreationInputTokens: 0,
              costUSD: plan.costUsd ?? 0.002,
            },
          },
        });
        return { result, text, sessionId, costUsd: result.total_cost_usd, wallMs: 1, malformed: [] };
      } finally {
        fake.active--;
      }
    })();
    done.catch(() => {});
    return {
      runId: `run-${call}`,
      pid: undefined,
      sessionId,
      args: [],
      done,
      cancel: () => {},
    };
  }) as FakeClaude;
  fake.calls = [];
  fake.active = 0;
  fake.maxActive = 0;
  return fake;
}

function deltaLine(text: string): ParsedLine {
  return {
    type: "stream_event",
    event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
  } as ParsedLine;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Like the real runner: an abort stops the run with `ClaudeCancelledError`. */
function untilAborted(gate: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return gate;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new ClaudeCancelledError(String(signal.reason)));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    gate.then(resolve, reject);
  });
}
