import type { AfkWorld } from "@claude-gateway/afk-adapters/testing";
import { decodeMarker, type RunMarker } from "@claude-gateway/afk-core";
import type { Logger } from "../src/logger.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it was told, for assertions. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

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
  const url = new URL("../../afk-poller/src/run.ts", import.meta.url).href;
  const mod = await import(/* @vite-ignore */ url);
  return mod.runPoller as PollerRun;
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
