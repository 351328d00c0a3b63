import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { apiError, messagesText, text, toolUse } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClaudeApiError,
  ClaudeCancelledError,
  ClaudeCrashedError,
  ClaudeTimeoutError,
  claudeConfigDir,
  type Invocation,
  type ResultEvent,
  RUN_MARKER_VAR,
  startWarm,
  transcriptPath,
  type WarmOptions,
  type WarmProcess,
} from "../src/index.js";
import { isAlive, pidsWithMarker } from "../src/reaper.js";
import { failure } from "./support/failure.js";
import { gcFunction } from "./support/gc.js";

// The product's warm process (`startWarm`) with the pinned CLI on the scripted Messages stub.
const world = useClaudeWorld({ workPrefix: "cg-warm-" });
const started: WarmProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

const noTools = (session: Invocation["session"], model = "claude-sonnet-4-6"): Invocation => ({
  profile: { kind: "no-tools" },
  session,
  output: "stream-json",
  includePartialMessages: true,
  model,
});
const warm = (over: Partial<WarmOptions> = {}) => {
  const p = startWarm({
    invocation: noTools({ kind: "new" }),
    cwd: world.work.dir,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    killGraceMs: 500,
    ...over,
  });
  started.push(p);
  return p;
};

describe("a warm process", () => {
  it("serves turn after turn of one session; each turn's spend is its own, summing to the CLI's total", async () => {
    world.stub.enqueue(
      text("one", { usage: { input_tokens: 100, output_tokens: 3 } }),
      text("two", { usage: { input_tokens: 200, output_tokens: 4 } }),
      text("three", { usage: { input_tokens: 300, output_tokens: 5 } }),
    );
    const p = warm();
    const r1 = await p.turn({ prompt: "my name is Ada", timeoutMs: 30_000 });
    const r2 = await p.turn({ prompt: "what is my name?", timeoutMs: 30_000 });
    let printed: ResultEvent | undefined;
    const r3 = await p.turn({
      prompt: "again?",
      timeoutMs: 30_000,
      onEvent: (ev) => {
        if (ev.type === "result") printed = ev as ResultEvent;
      },
    });
    expect([r1.text, r2.text, r3.text]).toEqual(["one", "two", "three"]);
    expect(new Set([r1.sessionId, r2.sessionId, r3.sessionId, p.sessionId]).size).toBe(1);
    expect(p.turns).toBe(3);
    expect(p.state).toBe("idle");
    // The third request carried the whole history.
    const third = messagesText(world.stub.turnRequests()[2]!.body);
    expect(third).toContain("my name is Ada");
    expect(third).toContain("two");
    // The CLI sums cost and modelUsage over the process; each turn reports only its own.
    const model = Object.keys(r3.result.modelUsage)[0]!;
    const turnsOwn = [r1, r2, r3].map((r) => r.result.modelUsage[model]!);
    expect(turnsOwn.map((u) => [u.inputTokens, u.outputTokens])).toEqual([
      [100, 3],
      [200, 4],
      [300, 5],
    ]);
    expect(printed!.modelUsage[model]!.inputTokens).toBe(600);
    for (const r of [r1, r2, r3]) expect(r.costUsd).toBeGreaterThan(0);
    expect(r1.costUsd + r2.costUsd + r3.costUsd).toBeCloseTo(printed!.total_cost_usd, 10);
    // `usage` is already the turn's own.
    expect(printed!.usage.input_tokens).toBe(300);
    // When the result is printed, the transcript on disk already holds the reply.
    const path = transcriptPath(claudeConfigDir(world.cli.env), world.work.dir, r1.sessionId);
    expect(await readFile(path, "utf8")).toContain("three");
  });

  it("keeps nothing of a finished turn: each turn's listener is collectable while the process lives on", async () => {
    // A long conversation on one warm process must not hold every turn's listeners (and, through
    // them, each turn's HTTP response): the soak found ~125 KB kept per turn before this.
    const collect = gcFunction();
    let collected = 0;
    const registry = new FinalizationRegistry<number>(() => {
      collected++;
    });
    world.stub.setDefault(text("ok"));
    const p = warm();
    const TURNS = 5;
    for (let i = 0; i < TURNS; i++) {
      const listener = { onEvent: (_ev: unknown) => {}, ballast: new Array(1000).fill(i) };
      registry.register(listener, i);
      await p.turn({ prompt: `turn ${i}`, timeoutMs: 30_000, onEvent: (ev) => listener.onEvent(ev) });
      await p.setModel("claude-sonnet-4-6", 30_000);
    }
    for (let round = 0; round < 20 && collected < TURNS; round++) {
      collect();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(collected).toBe(TURNS);
    expect(p.state).toBe("idle");
  });

  it("says when it is ready (the CLI answered initialize) without any API request; one that dies first is not", async () => {
    const p = warm();
    expect(await p.ready).toBe(true);
    expect(world.stub.requests).toHaveLength(0);
    world.stub.enqueue(text("fine"));
    expect((await p.turn({ prompt: "ok?", timeoutMs: 30_000 })).text).toBe("fine");
    // Initialize changed nothing the API sees: the turn is the only request, with its own prompt.
    expect(world.stub.turnRequests()).toHaveLength(1);
    const dead = warm({ bin: "/bin/false" });
    expect(await dead.ready).toBe(false);
  });

  it("resumes a recorded session: the first turn of a new process carries the earlier history", async () => {
    const first = warm();
    await first.turn({ prompt: "remember walnut", timeoutMs: 30_000 });
    await first.close();
    const second = warm({ invocation: noTools({ kind: "resume", id: first.sessionId! }) });
    const r = await second.turn({ prompt: "which word?", timeoutMs: 30_000 });
    expect(r.sessionId).toBe(first.sessionId);
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("remember walnut");
  });

  it("set_model: the next turn goes to the API with the new model and the whole history", async () => {
    const p = warm();
    await p.turn({ prompt: "first", timeoutMs: 30_000 });
    await p.setModel("claude-haiku-4-5", 30_000);
    await p.turn({ prompt: "second", timeoutMs: 30_000 });
    const last = world.stub.turnRequests().at(-1)!;
    expect(last.body.model).toBe("claude-haiku-4-5");
    expect(messagesText(last.body)).toContain("first");
  });

  it("a failed, timed-out or cancelled turn closes the process, and nothing it started survives", async () => {
    const p1 = warm();
    world.stub.enqueue(apiError(500, "boom"));
    expect(await failure(p1.turn({ prompt: "x", timeoutMs: 30_000 }))).toBeInstanceOf(ClaudeApiError);
    await p1.exited;
    expect(p1.state).toBe("closed");

    world.stub.setDefault({ kind: "hang" });
    const p2 = warm();
    expect(await failure(p2.turn({ prompt: "hang", timeoutMs: 1_500 }))).toBeInstanceOf(ClaudeTimeoutError);
    await p2.exited;

    const p3 = warm();
    const controller = new AbortController();
    const turn = p3.turn({ prompt: "hang", timeoutMs: 30_000, signal: controller.signal });
    await world.stub.waitForTurnRequests(2);
    controller.abort("caller went away");
    expect(await failure(turn)).toBeInstanceOf(ClaudeCancelledError);
    await p3.exited;
    for (const p of [p1, p2, p3]) expect(await pidsWithMarker(RUN_MARKER_VAR, p.runId)).toEqual([]);
  });

  it("a process that dies is reported as crashed, idle or mid-turn", async () => {
    const idle = warm();
    await idle.turn({ prompt: "hi", timeoutMs: 30_000 });
    process.kill(idle.pid!, "SIGKILL");
    await idle.exited;
    expect(await failure(idle.turn({ prompt: "again", timeoutMs: 30_000 }))).toBeInstanceOf(
      ClaudeCrashedError,
    );

    world.stub.setDefault({ kind: "hang" });
    const busy = warm();
    const turn = busy.turn({ prompt: "hang", timeoutMs: 30_000 });
    await world.stub.waitForTurnRequests(2);
    process.kill(busy.pid!, "SIGKILL");
    expect(await failure(turn)).toBeInstanceOf(ClaudeCrashedError);
  });

  it("close kills what the agent's tools left running in the background", async () => {
    world.stub.enqueue(
      // Its own session (setsid), so nothing the CLI does to the tool's group reaches it: only
      // the run's marker finds it.
      toolUse("Bash", {
        command: "setsid nohup tail -f /dev/null > /dev/null 2>&1 & echo $! > bg.pid",
        description: "bg",
      }),
      text("started it"),
    );
    const p = warm({
      invocation: {
        profile: { kind: "tools", dangerouslySkipPermissions: true },
        session: { kind: "new" },
        output: "stream-json",
        tools: ["Bash"],
      },
      setEnv: { IS_SANDBOX: "1" },
    });
    const r = await p.turn({ prompt: "start a sleeper", timeoutMs: 30_000 });
    expect(r.text).toBe("started it");
    // The tool really started it and it outlived the tool call…
    const bgPid = Number((await readFile(join(world.work.dir, "bg.pid"), "utf8")).trim());
    expect(bgPid).toBeGreaterThan(1);
    expect(isAlive(bgPid)).toBe(true);
    await p.close();
    // …and close took it down with the process.
    expect(isAlive(bgPid)).toBe(false);
    expect(await pidsWithMarker(RUN_MARKER_VAR, p.runId)).toEqual([]);
  });
});
