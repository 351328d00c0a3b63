import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { apiError, messagesText, offeredToolNames, systemText, text, toolUse } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { describe, expect, it } from "vitest";
import {
  ClaudeApiError,
  ClaudeAuthError,
  ClaudeCancelledError,
  ClaudeNotInstalledError,
  ClaudeSessionNotFoundError,
  ClaudeTimeoutError,
  type Invocation,
  type ParsedLine,
  RUN_MARKER_VAR,
  type RunOptions,
  runClaude,
  translateLine,
} from "../src/index.js";
import { pidsWithMarker } from "../src/reaper.js";
import { failure } from "./support/failure.js";

// The real pinned CLI against a scripted Messages API stub: what crosses the wire is asserted.
const world = useClaudeWorld({ workPrefix: "cg-cwd-" });

const json: Invocation = { profile: { kind: "tools" }, session: { kind: "new" }, output: "json" };
const run = (over: Partial<RunOptions> & { invocation?: Invocation } = {}) =>
  runClaude({
    invocation: json,
    prompt: "hello",
    cwd: world.work.dir,
    timeoutMs: 30_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...over,
  });

describe("runClaude with the real CLI", () => {
  it("json: parses the result; the prompt goes over stdin; the model crosses the wire verbatim", async () => {
    world.stub.enqueue(text("Hello from the world.stub."));
    const prompt = "--help me: this prompt starts like a flag";
    const r = run({ prompt, invocation: { ...json, model: "claude-haiku-4-5" } });
    expect(r.args.join(" ")).not.toContain("this prompt");
    const out = await r.done;
    expect(out.text).toBe("Hello from the world.stub.");
    expect(out.sessionId).toBe(r.sessionId);
    expect(out.result.total_cost_usd).toBeGreaterThan(0);
    expect(out.result.usage.input_tokens).toBeGreaterThan(0);
    const [req] = world.stub.turnRequests();
    expect(req?.body.model).toBe("claude-haiku-4-5");
    expect(messagesText(req!.body)).toContain(prompt);
  });

  it("stream-json: typed events, live text deltas, then the result", async () => {
    world.stub.enqueue(text("One two three four five six seven.", { chunkSize: 5 }));
    const events: ParsedLine[] = [];
    const r = run({
      invocation: { ...json, output: "stream-json", includePartialMessages: true },
      onEvent: (ev) => events.push(ev),
    });
    const out = await r.done;
    const types = events.map((e) =>
      e.type === "system" ? `system/${(e as { subtype: string }).subtype}` : e.type,
    );
    expect(types[0]).toBe("system/init");
    expect(types).toContain("stream_event");
    expect(types).toContain("assistant");
    expect(types.at(-1)).toBe("result");
    const deltas = events.flatMap(translateLine).flatMap((e) => (e.type === "text_delta" ? [e.text] : []));
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe("One two three four five six seven.");
    expect(out.text).toBe("One two three four five six seven.");
    expect(out.malformed).toEqual([]);
  });

  it("resume: turn 2 sends turn 1 to the API", async () => {
    world.stub.enqueue(text("The capital of Bulgaria is Sofia."), text("About 1.2 million people."));
    const first = await run({ prompt: "What is the capital of Bulgaria?" }).done;
    const second = await run({
      prompt: "How many people live there?",
      invocation: { ...json, session: { kind: "resume", id: first.sessionId } },
    }).done;
    expect(second.sessionId).toBe(first.sessionId);
    const turn2 = world.stub.turnRequests()[1]!;
    const sent = messagesText(turn2.body);
    expect(sent).toContain("What is the capital of Bulgaria?");
    expect(sent).toContain("The capital of Bulgaria is Sofia.");
    expect(sent).toContain("How many people live there?");
  });

  it("no-tools profile: the API request offers no tools and init lists none", async () => {
    world.stub.enqueue(text("ok"));
    let initTools: string[] | undefined;
    const r = run({
      invocation: { profile: { kind: "no-tools" }, session: { kind: "ephemeral" }, output: "stream-json" },
      onEvent: (ev) => {
        if (ev.type === "system" && "tools" in ev) initTools = ev.tools as string[];
      },
    });
    await r.done;
    expect(initTools).toEqual([]);
    expect(world.stub.turnRequests()[0]?.body.tools ?? []).toEqual([]);
  });

  it("a system prompt and an inline agent reach the API", async () => {
    world.stub.enqueue(text("a"), text("b"));
    await run({
      invocation: { ...json, session: { kind: "ephemeral" }, systemPrompt: "You are a terse test oracle." },
    }).done;
    await run({
      invocation: {
        ...json,
        session: { kind: "ephemeral" },
        tools: ["Read", "Bash"],
        agent: {
          name: "tri",
          definition: {
            name: "tri",
            description: "Triage",
            prompt: "You triage recruiter mail.",
            tools: ["Read"],
          },
        },
      },
    }).done;
    const [a, b] = world.stub.turnRequests();
    expect(systemText(a!.body)).toContain("You are a terse test oracle.");
    expect(systemText(b!.body)).toContain("You triage recruiter mail.");
    expect(offeredToolNames(b!.body)).toEqual(["Read"]);
  });

  it("a Bash tool_use is not executed without the skip flag", async () => {
    world.stub.enqueue(
      toolUse("Bash", { command: 'python3 -c \'open("marker","w")\'', description: "write marker" }),
      text("done"),
    );
    const out = await run().done;
    expect(existsSync(join(world.work.dir, "marker"))).toBe(false);
    expect(out.result.permission_denials.map((d) => d.tool_name)).toContain("Bash");
    // The tool was offered; the CLI refused to run it.
    expect(offeredToolNames(world.stub.turnRequests()[0]!.body)).toContain("Bash");
  });

  it("the same tool_use runs with the named skip opt-in (so the previous test can tell)", async () => {
    world.stub.enqueue(
      toolUse("Bash", { command: 'python3 -c \'open("marker","w")\'', description: "write marker" }),
      text("done"),
    );
    const out = await run({
      invocation: { ...json, profile: { kind: "tools", dangerouslySkipPermissions: true } },
      setEnv: { IS_SANDBOX: "1" },
    }).done;
    expect(existsSync(join(world.work.dir, "marker"))).toBe(true);
    expect(out.result.permission_denials).toEqual([]);
  });

  it("the child does not see the service's secrets", async () => {
    world.stub.enqueue(toolUse("Bash", { command: "env > env.txt", description: "dump env" }), text("done"));
    await run({
      invocation: { ...json, profile: { kind: "tools", dangerouslySkipPermissions: true } },
      sourceEnv: { ...world.cli.env, AUTH_TOKENS: "svc=super-secret", NATS_URL: "nats://u:pw@x" },
      setEnv: { IS_SANDBOX: "1" },
    }).done;
    const env = await readFile(join(world.work.dir, "env.txt"), "utf8");
    expect(env).toContain(`${RUN_MARKER_VAR}=`);
    expect(env).not.toContain("super-secret");
    expect(env).not.toContain("NATS_URL");
  });
});

describe("runClaude error mapping with the real CLI", () => {
  it.each([
    [401, "claude_not_authenticated", ClaudeAuthError],
    [429, "upstream_error", ClaudeApiError],
    [500, "upstream_error", ClaudeApiError],
    [529, "upstream_error", ClaudeApiError],
  ])("API %i ⇒ %s", async (status, code, cls) => {
    world.stub.setDefault(apiError(status));
    const err = await failure(run().done);
    expect(err).toBeInstanceOf(cls);
    expect(err.code).toBe(code);
    expect((err as unknown as { apiStatus: number }).apiStatus).toBe(status);
    expect(err.result?.is_error).toBe(true);
  });

  it("a hang past the deadline ⇒ timeout, and no process is left", async () => {
    world.stub.setDefault({ kind: "hang" });
    const r = run({ timeoutMs: 2500, killGraceMs: 1000 });
    const err = await failure(r.done);
    expect(err).toBeInstanceOf(ClaudeTimeoutError);
    expect(await pidsWithMarker(RUN_MARKER_VAR, r.runId)).toEqual([]);
    expect(isAlive(r.pid!)).toBe(false);
  });

  it("cancel while a tool runs in its own session ⇒ cancelled, and the tool's processes are gone", async () => {
    // Not `sleep`: since 2.1.2xx the CLI's Bash tool refuses a bare `sleep N` ("use Monitor").
    world.stub.enqueue(
      toolUse("Bash", { command: "tail -f /dev/null & tail -f /dev/null", description: "wait" }),
      text("never"),
    );
    const controller = new AbortController();
    const r = run({
      invocation: {
        ...json,
        output: "stream-json",
        profile: { kind: "tools", dangerouslySkipPermissions: true },
      },
      setEnv: { IS_SANDBOX: "1" },
      signal: controller.signal,
      killGraceMs: 1500,
    });
    // Wait until the tool's processes really run.
    await waitFor(async () => (await pidsWithMarker(RUN_MARKER_VAR, r.runId)).length >= 3);
    controller.abort("client went away");
    const err = await failure(r.done);
    expect(err).toBeInstanceOf(ClaudeCancelledError);
    expect(err.message).toContain("client went away");
    expect(await pidsWithMarker(RUN_MARKER_VAR, r.runId)).toEqual([]);
  });

  it("a background process a tool leaves behind is reaped after a normal exit", async () => {
    world.stub.enqueue(
      toolUse("Bash", {
        command: "nohup tail -f /dev/null >/dev/null 2>&1 & echo $! > bg.pid",
        description: "bg",
      }),
      text("done"),
    );
    const r = run({
      invocation: { ...json, profile: { kind: "tools", dangerouslySkipPermissions: true } },
      setEnv: { IS_SANDBOX: "1" },
    });
    await r.done;
    // The tool really started it (a refused command would make this test prove nothing)…
    const bgPid = Number((await readFile(join(world.work.dir, "bg.pid"), "utf8")).trim());
    expect(bgPid).toBeGreaterThan(1);
    // …and it is gone.
    expect(isAlive(bgPid)).toBe(false);
    expect(await pidsWithMarker(RUN_MARKER_VAR, r.runId)).toEqual([]);
  });

  it("resume of an unknown session ⇒ session_not_found (json and stream-json)", async () => {
    const id = "6d1f4c1e-9a51-4a43-9f0e-5d7e4c1b2a33";
    for (const output of ["json", "stream-json"] as const) {
      const err = await failure(
        run({ invocation: { ...json, output, session: { kind: "resume", id } } }).done,
      );
      expect(err).toBeInstanceOf(ClaudeSessionNotFoundError);
      expect((err as ClaudeSessionNotFoundError).sessionId).toBe(id);
    }
    expect(world.stub.turnRequests()).toEqual([]);
  });

  it("an already aborted signal never spawns", async () => {
    const c = new AbortController();
    c.abort("early");
    const r = run({ signal: c.signal });
    expect(r.pid).toBeUndefined();
    expect(await failure(r.done)).toBeInstanceOf(ClaudeCancelledError);
  });

  it("a missing or placeholder binary ⇒ claude_not_installed", async () => {
    const missing = await failure(run({ bin: join(world.work.dir, "nope") }).done);
    expect(missing).toBeInstanceOf(ClaudeNotInstalledError);
    const placeholder = join(world.work.dir, "claude.exe");
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(placeholder, "#!/bin/sh\necho 'claude native binary not installed' >&2\nexit 1\n", {
        mode: 0o755,
      }),
    );
    const err = await failure(run({ bin: placeholder }).done);
    expect(err).toBeInstanceOf(ClaudeNotInstalledError);
    expect(err.message).toMatch(/onlyBuiltDependencies/);
  });
});

/** Running, not merely a zombie waiting for init (which may be slow to reap in a container). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}
