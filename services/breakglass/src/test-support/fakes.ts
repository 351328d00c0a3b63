import { readFileSync } from "node:fs";
import {
  ClaudeApiError,
  ClaudeCancelledError,
  type ParsedLine,
  parseLine,
  type ResultEvent,
  type RunResult,
} from "@claude-gateway/claude";
import type { Verb } from "../core/verbs.js";
import type { VerbResult } from "../core/wire.js";
import type { ClaudeTurns, PveRunner, TurnRequest } from "../ports.js";

/** The real CLI's stream-json lines of a captured turn (`src/core/testdata`). */
export function fixtureLines(name: "turn-tool-call.jsonl" | "turn-denied.jsonl"): ParsedLine[] {
  return readFileSync(new URL(`../core/testdata/${name}`, import.meta.url), "utf8")
    .split("\n")
    .flatMap((l) => {
      const p = parseLine(l);
      return p ? [p] : [];
    });
}

/**
 * What `hold()` and `release()` of a fake share: after `hold()`, `held()` is a promise that
 * `release()` resolves; otherwise undefined (nothing to wait for).
 */
function holdGate() {
  let gate: { promise: Promise<void>; release: () => void } | undefined;
  return {
    hold() {
      let release!: () => void;
      const promise = new Promise<void>((r) => {
        release = r;
      });
      gate = { promise, release };
    },
    release() {
      gate?.release();
      gate = undefined;
    },
    held: (): Promise<void> | undefined => gate?.promise,
  };
}

/** A held turn stops after the fixture's first text delta (init, status, message start, block start, delta). */
const HELD_AFTER = 5;

/**
 * A `ClaudeTurns` replaying captured CLI output. `hold()` makes the next turns wait (mid-way,
 * after their first lines) until `release()` or their abort signal, which ends them the way the
 * runner does: `ClaudeCancelledError`.
 */
export function fakeTurns(lines: ParsedLine[] = fixtureLines("turn-tool-call.jsonl")) {
  const calls: TurnRequest[] = [];
  const transcripts = new Set<string>();
  const gate = holdGate();
  let failNext: Error | undefined;
  const turns: ClaudeTurns & {
    calls: TurnRequest[];
    hold(): void;
    release(): void;
    failNext(err: Error): void;
  } = {
    model: "claude-sonnet-4-6",
    calls,
    hold: gate.hold,
    release: gate.release,
    failNext(err) {
      failNext = err;
    },
    async hasTranscript(id) {
      return transcripts.has(id);
    },
    async run(req) {
      calls.push(req);
      transcripts.add(req.sessionId);
      const result = lines.findLast((l): l is ResultEvent => l.type === "result");
      if (!result) throw new Error("fixture without a result line");
      const head = lines.slice(0, HELD_AFTER);
      for (const l of head) req.onLine(l);
      const held = gate.held();
      if (held) {
        await new Promise<void>((resolve, reject) => {
          if (req.signal.aborted) reject(new ClaudeCancelledError(String(req.signal.reason)));
          req.signal.addEventListener("abort", () =>
            reject(new ClaudeCancelledError(String(req.signal.reason))),
          );
          held.then(resolve);
        });
      }
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      for (const l of lines.slice(HELD_AFTER)) req.onLine(l);
      const out: RunResult = {
        result,
        text: result.result ?? "",
        sessionId: req.sessionId,
        costUsd: result.total_cost_usd,
        wallMs: 1,
        malformed: [],
      };
      return out;
    },
  };
  return turns;
}

export const upstreamError = () => new ClaudeApiError("API Error: 529 Overloaded", 529);

/** A `PveRunner` recording the verbs it was asked to run. `hold()` keeps the next ones running. */
export function fakePve(exitCode = 0) {
  const calls: Verb[] = [];
  const gate = holdGate();
  const runner: PveRunner & { calls: Verb[]; hold(): void; release(): void } = {
    calls,
    hold: gate.hold,
    release: gate.release,
    async run(verb): Promise<Omit<VerbResult, "vmid">> {
      calls.push(verb);
      const held = gate.held();
      if (held) await held;
      return {
        verb,
        ok: exitCode === 0,
        exitCode,
        signal: null,
        timedOut: false,
        output: `status: running\nqm ${verb} done\n`,
        truncated: false,
        startedAt: new Date(0).toISOString(),
        durationMs: 5,
      };
    },
  };
  return runner;
}
