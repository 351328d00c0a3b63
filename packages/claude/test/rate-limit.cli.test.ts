import { planLimit } from "@claude-gateway/contracts";
import { apiError, text } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildChildEnv,
  ClaudeApiError,
  type Invocation,
  type ParsedLine,
  parseLine,
  planState,
  type RunEvent,
  runClaude,
  translateLine,
} from "../src/index.js";
import { killStreamProcess, type StreamProcess, startStreamProcess } from "./support/stream-process.js";

// Plan utilisation with the pinned CLI: which login gets `rate_limit_event` lines, what they say
// for the API's `anthropic-ratelimit-unified-*` headers, and what a refused request looks like
// (README: "Plan utilisation").
const world = useClaudeWorld({ workPrefix: "cg-ratelimit-" });

/** A subscription login as `claude setup-token` gives it; the stub checks no token. */
const oauthEnv = (over: Record<string, string> = {}) => {
  const { ANTHROPIC_API_KEY: _apiKey, ...rest } = world.cli.env;
  return { ...rest, CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test-dummy", ...over };
};

interface Window {
  utilization: number;
  reset: number;
  status: "allowed" | "allowed_warning" | "rejected";
}

/** The headers the API sends a subscription login, as the CLI reads them. */
function planHeaders(p: { status: string; claim: string; fiveHour: Window; sevenDay: Window }) {
  const reset = p.claim === "seven_day" ? p.sevenDay.reset : p.fiveHour.reset;
  return {
    "anthropic-ratelimit-unified-status": p.status,
    "anthropic-ratelimit-unified-reset": String(reset),
    "anthropic-ratelimit-unified-representative-claim": p.claim,
    "anthropic-ratelimit-unified-5h-utilization": String(p.fiveHour.utilization),
    "anthropic-ratelimit-unified-5h-reset": String(p.fiveHour.reset),
    "anthropic-ratelimit-unified-5h-status": p.fiveHour.status,
    "anthropic-ratelimit-unified-7d-utilization": String(p.sevenDay.utilization),
    "anthropic-ratelimit-unified-7d-reset": String(p.sevenDay.reset),
    "anthropic-ratelimit-unified-7d-status": p.sevenDay.status,
  };
}

const nowS = () => Math.floor(Date.now() / 1000);
const streamJson: Invocation = {
  profile: { kind: "no-tools" },
  session: { kind: "ephemeral" },
  output: "stream-json",
};

async function streamRun(sourceEnv: Record<string, string>) {
  const lines: ParsedLine[] = [];
  const r = runClaude({
    invocation: streamJson,
    prompt: "hello",
    cwd: world.work.dir,
    timeoutMs: 60_000,
    bin: world.cli.bin,
    sourceEnv,
    onEvent: (ev) => lines.push(ev),
  });
  const done = await r.done.then(
    (out) => ({ ok: true as const, out }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  return { lines, done, events: lines.flatMap(translateLine) };
}

const rateLimits = (events: RunEvent[]) => events.filter((e) => e.type === "rate_limit");

describe("rate_limit_event lines", () => {
  it("a subscription login: one line from the response's plan headers, translated", async () => {
    const fiveHour: Window = { utilization: 0.42, reset: nowS() + 3600, status: "allowed" };
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 3 * 86_400, status: "allowed" };
    world.stub.enqueue(
      text("hi", { headers: planHeaders({ status: "allowed", claim: "five_hour", fiveHour, sevenDay }) }),
    );
    const { lines, done, events } = await streamRun(oauthEnv());
    expect(done.ok).toBe(true);
    // The CLI sends the token as a bearer with the OAuth beta, not as an API key.
    const [req] = world.stub.turnRequests();
    expect(req?.headers.authorization).toBe("Bearer sk-ant-oat01-test-dummy");
    expect(req?.headers["x-api-key"]).toBeUndefined();
    expect(String(req?.headers["anthropic-beta"])).toContain("oauth-2025-04-20");

    const raw = lines.filter((l) => l.type === "rate_limit_event");
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatchObject({
      type: "rate_limit_event",
      rate_limit_info: {
        status: "allowed",
        resetsAt: fiveHour.reset,
        rateLimitType: "five_hour",
        isUsingOverage: false,
        unifiedWindows: {
          five_hour: { utilization: 0.42, resetsAt: fiveHour.reset, status: "allowed" },
          seven_day: { utilization: 0.17, resetsAt: sevenDay.reset, status: "allowed" },
        },
      },
      uuid: expect.any(String),
      session_id: expect.any(String),
    });
    // After the assistant's answer, before the result.
    const types = lines.map((l) => l.type);
    expect(types.indexOf("rate_limit_event")).toBeGreaterThan(types.indexOf("assistant"));
    expect(types.indexOf("rate_limit_event")).toBeLessThan(types.indexOf("result"));

    expect(rateLimits(events)).toEqual([
      {
        type: "rate_limit",
        status: "allowed",
        window: "five_hour",
        resetsAt: fiveHour.reset,
        usingOverage: false,
        windows: [
          { window: "five_hour", utilization: 0.42, resetsAt: fiveHour.reset, status: "allowed" },
          { window: "seven_day", utilization: 0.17, resetsAt: sevenDay.reset, status: "allowed" },
        ],
      },
    ]);
    expect(planLimit(planState(events), Date.now())).toEqual({ atLimit: false });
  });

  it("a near-limit warning names the window, its utilisation and the threshold it passed", async () => {
    const fiveHour: Window = { utilization: 0.85, reset: nowS() + 3600, status: "allowed_warning" };
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 3 * 86_400, status: "allowed" };
    world.stub.enqueue(
      text("hi", {
        headers: {
          ...planHeaders({ status: "allowed_warning", claim: "five_hour", fiveHour, sevenDay }),
          "anthropic-ratelimit-unified-5h-surpassed-threshold": "0.8",
        },
      }),
    );
    const { lines, events } = await streamRun(oauthEnv());
    expect(lines.find((l) => l.type === "rate_limit_event")).toMatchObject({
      rate_limit_info: {
        status: "allowed_warning",
        rateLimitType: "five_hour",
        utilization: 0.85,
        surpassedThreshold: 0.8,
        unifiedWindows: {
          five_hour: { utilization: 0.85, status: "allowed_warning", surpassedThreshold: 0.8 },
        },
      },
    });
    expect(rateLimits(events)).toMatchObject([{ status: "allowed_warning", window: "five_hour" }]);
    expect(planLimit(planState(events), Date.now())).toEqual({ atLimit: false });
  });

  it("an API-key login gets none, whatever the response's headers say", async () => {
    const fiveHour: Window = { utilization: 0.42, reset: nowS() + 3600, status: "allowed" };
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 86_400, status: "allowed" };
    world.stub.enqueue(
      text("hi", { headers: planHeaders({ status: "allowed", claim: "five_hour", fiveHour, sevenDay }) }),
    );
    const { lines, done, events } = await streamRun(world.cli.env);
    expect(done.ok).toBe(true);
    expect(world.stub.turnRequests()[0]?.headers["x-api-key"]).toBe("sk-ant-test-dummy");
    expect(lines.some((l) => l.type === "rate_limit_event" || l.type === "unknown")).toBe(false);
    expect(planState(events)).toBeUndefined();
  });

  it("at the limit: the API's 429 is not retried; a rejected line, then a usage-limit result", async () => {
    const fiveHour: Window = { utilization: 1, reset: nowS() + 3600, status: "rejected" };
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 86_400, status: "allowed" };
    world.stub.setDefault(
      apiError(
        429,
        "stub limit",
        planHeaders({ status: "rejected", claim: "five_hour", fiveHour, sevenDay }),
      ),
    );
    const { lines, done, events } = await streamRun(oauthEnv({ CLAUDE_CODE_MAX_RETRIES: "2" }));
    // The CLI's retries are for throttling; a plan at its limit is asked once.
    expect(world.stub.turnRequests()).toHaveLength(1);

    const types = lines.map((l) => l.type);
    expect(types.indexOf("rate_limit_event")).toBeLessThan(types.indexOf("assistant"));
    expect(lines.find((l) => l.type === "rate_limit_event")).toMatchObject({
      rate_limit_info: {
        status: "rejected",
        resetsAt: fiveHour.reset,
        rateLimitType: "five_hour",
        isUsingOverage: false,
        unifiedWindows: {
          five_hour: { utilization: 1, status: "rejected" },
          seven_day: { status: "allowed" },
        },
      },
    });
    // The error turn: the CLI's own words, not the API's message, and `api_error: usage_limit_reached`.
    const err = done.ok ? undefined : done.err;
    expect(err).toBeInstanceOf(ClaudeApiError);
    expect((err as ClaudeApiError).apiStatus).toBe(429);
    expect((err as ClaudeApiError).result).toMatchObject({
      is_error: true,
      api_error_status: 429,
      api_error: "usage_limit_reached",
      api_error_type: "rate_limit_error",
    });
    expect((err as ClaudeApiError).result?.result).toMatch(/^You've hit your 5-hour limit · resets /);

    const limit = planLimit(planState(events), Date.now());
    expect(limit).toMatchObject({ atLimit: true, window: "five_hour", resetsAt: fiveHour.reset });
    // Retry-After: the seconds left until the window resets (a little under an hour by now).
    const retryAfter = limit.atLimit ? limit.retryAfterSeconds : 0;
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });

  it("past the limit with extra usage on: served, rejected with isUsingOverage, not a plan limit", async () => {
    const fiveHour: Window = { utilization: 1, reset: nowS() + 3600, status: "rejected" };
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 86_400, status: "allowed" };
    world.stub.enqueue(
      text("paid from credits", {
        headers: {
          ...planHeaders({ status: "rejected", claim: "five_hour", fiveHour, sevenDay }),
          "anthropic-ratelimit-unified-overage-status": "allowed",
        },
      }),
    );
    const { lines, done, events } = await streamRun(oauthEnv());
    expect(done.ok).toBe(true);
    expect(lines.find((l) => l.type === "rate_limit_event")).toMatchObject({
      rate_limit_info: { status: "rejected", overageStatus: "allowed", isUsingOverage: true },
    });
    expect(rateLimits(events)).toMatchObject([{ status: "rejected", usingOverage: true }]);
    expect(planLimit(planState(events), Date.now())).toEqual({ atLimit: false });
  });

  it("a 429 without plan headers (throttling): retried, a bare rejected line, not a plan limit", async () => {
    world.stub.setDefault(apiError(429, "slow down"));
    const { lines, done, events } = await streamRun(oauthEnv({ CLAUDE_CODE_MAX_RETRIES: "1" }));
    expect(world.stub.turnRequests()).toHaveLength(2);
    expect(done.ok).toBe(false);
    const raw = lines.filter((l) => l.type === "rate_limit_event");
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatchObject({ rate_limit_info: { status: "rejected", isUsingOverage: false } });
    expect(Object.keys((raw[0] as { rate_limit_info: object }).rate_limit_info).sort()).toEqual([
      "isUsingOverage",
      "status",
    ]);
    const result = done.ok ? undefined : (done.err as ClaudeApiError).result;
    expect(result?.result).toMatch(/not your usage limit/);
    expect(result).not.toHaveProperty("api_error");
    expect(planLimit(planState(events), Date.now())).toEqual({ atLimit: false });
  });
});

describe("rate_limit_event in a long-lived process", () => {
  let proc: StreamProcess | undefined;
  afterEach(async () => {
    await killStreamProcess(proc);
    proc = undefined;
  });

  it("is printed only when the plan's state changed", async () => {
    const fiveHourReset = nowS() + 3600;
    const sevenDay: Window = { utilization: 0.17, reset: nowS() + 86_400, status: "allowed" };
    const reply = (utilization: number) =>
      text("warm", {
        headers: planHeaders({
          status: "allowed",
          claim: "five_hour",
          fiveHour: { utilization, reset: fiveHourReset, status: "allowed" },
          sevenDay,
        }),
      });
    world.stub.enqueue(reply(0.1), reply(0.1), reply(0.2));
    proc = startStreamProcess(world.cli.bin, ["--tools", "", "--no-session-persistence"], {
      cwd: world.work.dir,
      env: buildChildEnv(oauthEnv(), { runId: "rate-limit" }),
    });
    const perTurn: RunEvent[][] = [];
    for (const prompt of ["one", "two", "three"]) {
      const from = proc.lines.length;
      await proc.turn(prompt);
      perTurn.push(
        proc.lines.slice(from).flatMap((l) => {
          const parsed = parseLine(JSON.stringify(l));
          return parsed ? translateLine(parsed) : [];
        }),
      );
    }
    const utilisation = perTurn.map((events) =>
      rateLimits(events).map((e) => (e.type === "rate_limit" ? e.windows[0]?.utilization : undefined)),
    );
    expect(utilisation).toEqual([[0.1], [], [0.2]]);
    expect(planState(perTurn.flat())?.windows.five_hour?.utilization).toBe(0.2);
  });
});
