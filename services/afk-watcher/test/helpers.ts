import { type AfkWorld, recordingLogger } from "@claude-gateway/afk-adapters/testing";
import { decodeMarker, type RunMarker } from "@claude-gateway/afk-core";
import { afterEach, beforeAll } from "vitest";
import { runWatcher } from "../src/start.js";

type TickIo = {
  env: Record<string, string>;
  fetch: typeof fetch;
  now: () => Date;
  logger: ReturnType<typeof recordingLogger>;
};
export type PollerRun = (io: TickIo) => Promise<{ exitCode: number }>;

/**
 * The poller's real tick, for the end-to-end runs. It lives in another service this package does
 * not depend on, so it is imported from source at run time (vitest compiles it); only the tests do this.
 */
export async function loadPoller(): Promise<PollerRun> {
  const url = new URL("../../afk-poller/src/start.ts", import.meta.url).href;
  const mod = await import(/* @vite-ignore */ url);
  return mod.runPoller as PollerRun;
}

/**
 * Both ticks against the world the running test started (`world()`), with its env and clock and a
 * recording logger; the world is closed after each test.
 */
export function useTicks(world: () => AfkWorld | undefined) {
  let runPoller: PollerRun;
  beforeAll(async () => {
    runPoller = await loadPoller();
  });
  afterEach(async () => world()?.close());
  const io = (over: Record<string, string> = {}) => {
    const w = world()!;
    return { env: w.env(over), fetch, now: w.clock.now, logger: recordingLogger() };
  };
  return {
    poll: (over?: Record<string, string>) => runPoller(io(over)),
    watch: (over?: Record<string, string>) => runWatcher(io(over)),
  };
}

/** The run marker the ticks keep on the issue (latest checklist comment). */
export function markerOf(world: AfkWorld, repo: string, number: number): RunMarker {
  const comments = world.store.comments(repo, number);
  for (let i = comments.length - 1; i >= 0; i--) {
    const m = decodeMarker(comments[i]!.body);
    if (m) return m;
  }
  throw new Error(`no run marker on ${repo}#${number}`);
}

/** The checklist comment's body. */
export function checklistOf(world: AfkWorld, repo: string, number: number): string {
  const comments = world.store.comments(repo, number).filter((c) => c.body.includes("afk-state:v1"));
  return comments.at(-1)?.body ?? "";
}

/** The agent takes the pending turn, writes these messages and ends the turn (then the checkpoint). */
export function agentTurn(world: AfkWorld, threadId: string, ...messages: string[]): void {
  const agent = world.t3.agent(threadId);
  agent.startTurn();
  for (const m of messages) agent.say(m);
  agent.finishTurn();
  agent.checkpoint();
}
