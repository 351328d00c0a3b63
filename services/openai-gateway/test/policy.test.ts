import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { principalId } from "@claude-gateway/contracts";
import { secondsUntilNextUtcDay } from "@claude-gateway/policy";
import { offeredToolNames, TEST_TOKEN, tempDir, text } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, type World } from "./harness.js";

/**
 * The caller policy at the gateway, against the real executor, CLI and nats-server, with an
 * explicit policy file: alice may run `general`, bob may not and has haiku only, carol may start
 * one completion a minute, dave's day is spent by one turn, ops is an admin.
 */
const POLICY = `
defaults:
  agents: [assistant]
  models: [claude-haiku-4-5, claude-sonnet-4-6]
  maxConcurrent: 2
  requestsPerMinute: 30
  budgetUsdPerDay: 2
callers:
  alice: { agents: [assistant, general] }
  bob: { models: [claude-haiku-4-5] }
  carol: { requestsPerMinute: 1 }
  # Below one turn's cost on the stub (about $0.0004).
  dave: { budgetUsdPerDay: 0.0001 }
  ops: { admin: true }
`;
const TOKENS = {
  alice: "alice-token-0123456789",
  bob: "bob-token-0123456789ab",
  carol: "carol-token-0123456789",
  dave: "dave-token-0123456789a",
  ops: "ops-token-0123456789ab",
};
type Caller = keyof typeof TOKENS;

let world: World;
let gateway: RunningGateway;
let cleanup: () => Promise<void>;
const client = (who: Caller) => world.client(gateway, TOKENS[who]);
const user = (content: string) => [{ role: "user" as const, content }];

beforeAll(async () => {
  const dir = await tempDir("cg-oai-policy-");
  cleanup = dir.cleanup;
  const policy = join(dir.dir, "policy.yaml");
  await writeFile(policy, POLICY);
  // Not sandboxed: the executor runs the CLI the way a root deployment does (this machine runs
  // tests as root), until a test that needs `general` restarts it sandboxed.
  world = await createWorld({ CALLER_POLICY_FILE: policy }, { sandbox: false });
  const tokens = Object.entries(TOKENS).map(([name, token]) => `${name}=${token}`);
  gateway = await world.gateway({
    CALLER_POLICY_FILE: policy,
    AUTH_TOKENS: [`tester=${TEST_TOKEN}`, ...tokens].join(","),
  });
});
afterAll(async () => {
  await world?.close();
  await cleanup?.();
});
beforeEach(() => {
  world.stub.reset();
  world.stub.setDefault(text("Hello from the stub."));
});

/** What an SDK call threw. */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as InstanceType<typeof OpenAI.APIError>;
}

describe("the default agent", () => {
  it("offers the API no tools, and works where the service runs as root", async () => {
    expect(world.cli.env.IS_SANDBOX).toBeUndefined();
    const { data, response } = await client("alice")
      .chat.completions.create({ model: "claude-haiku-4-5", messages: user("Say hello.") })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from the stub.");
    const [turn] = world.stub.turnRequests();
    expect(turn?.body.tools ?? []).toEqual([]);
    const job = await world.job(response.headers.get("x-job-id")!, principalId("tok", "alice"));
    expect(job).toMatchObject({ agent: "assistant", status: "succeeded", caller: "tok_alice" });
  });

  it.runIf(process.getuid?.() === 0)(
    "`general` (which skips permissions) runs where the service is root, without IS_SANDBOX: its agent runs as a runner user, never as root",
    async () => {
      const completion = await client("alice").chat.completions.create(
        { model: "claude-haiku-4-5", messages: user("Say hello.") },
        { headers: { "X-Claude-Agent": "general" } },
      );
      expect(completion.choices[0]?.message.content).toBe("Hello from the stub.");
      expect(world.stub.turnRequests()).toHaveLength(1);
    },
  );
});

describe("what a caller's policy does not list: PermissionDeniedError, and nothing runs", () => {
  it.each<
    [
      string,
      Caller,
      OpenAI.ChatCompletionCreateParamsNonStreaming,
      Record<string, string>,
      Record<string, string>,
    ]
  >([
    [
      "an agent in X-Claude-Agent",
      "bob",
      { model: "claude-haiku-4-5", messages: user("Hi") },
      { "X-Claude-Agent": "general" },
      { code: "agent_not_allowed", message: "agent 'general' is not allowed for you; allowed: assistant" },
    ],
    [
      "an agent in metadata.agent",
      "bob",
      { model: "claude-haiku-4-5", messages: user("Hi"), metadata: { agent: "general" } },
      {},
      { code: "agent_not_allowed" },
    ],
    [
      "a supported model",
      "bob",
      { model: "claude-sonnet-4-6", messages: user("Hi") },
      {},
      {
        code: "model_not_allowed",
        param: "model",
        message: "model 'claude-sonnet-4-6' is not allowed for you; allowed: claude-haiku-4-5",
      },
    ],
  ])("%s", async (_name, who, body, headers, expected) => {
    const err = await failure(client(who).chat.completions.create(body, { headers }));
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err.status).toBe(403);
    // The error object of the body (the SDK's own message adds the status in front).
    expect(err.error).toMatchObject({ type: "request_forbidden", ...expected });
    expect(world.stub.requests).toEqual([]);
  });
});

describe("an agent with tools", () => {
  it("X-Claude-Agent: general runs for a caller whose policy lists it, and only for it", async () => {
    // `general` skips permissions, which the CLI allows root only in a sandbox.
    await world.restartExecutor({ sandbox: true });
    const denied = await failure(
      client("bob").chat.completions.create(
        { model: "claude-haiku-4-5", messages: user("Hi") },
        { headers: { "X-Claude-Agent": "general" } },
      ),
    );
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(world.stub.requests).toEqual([]);

    const { data, response } = await client("alice")
      .chat.completions.create(
        { model: "claude-haiku-4-5", messages: user("Say hello.") },
        { headers: { "X-Claude-Agent": "general" } },
      )
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from the stub.");
    const job = await world.job(response.headers.get("x-job-id")!, principalId("tok", "alice"));
    expect(job).toMatchObject({ agent: "general", status: "succeeded" });
    expect(offeredToolNames(world.stub.turnRequests()[0]!.body)).toContain("Bash");
  });
});

describe("limits: RateLimitError with the retry-after", () => {
  it("over the caller's requests per minute: rate_limited until the minute ends", async () => {
    // One a minute: the second is refused, or the third if the minute turned between the first two.
    let err: InstanceType<typeof OpenAI.APIError> | undefined;
    let served = 0;
    for (let i = 0; i < 3 && !err; i++) {
      try {
        await client("carol").chat.completions.create({ model: "claude-haiku-4-5", messages: user("Hi") });
        served++;
      } catch (e) {
        err = e as InstanceType<typeof OpenAI.APIError>;
      }
    }
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(2);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", type: "requests" });
    const retryAfter = Number(err?.headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(world.stub.turnRequests()).toHaveLength(served);
  });

  it("a budget below one turn's cost: the first turn is answered, the next is daily_budget_exceeded until midnight UTC", async () => {
    // The first turn runs with --max-budget-usd at what is left of dave's day, less than it costs:
    // its one message finishes the reply and passes the cap; the reply is whole, and kept.
    const { data: first, response } = await client("dave")
      .chat.completions.create({ model: "claude-haiku-4-5", messages: user("Hi") })
      .withResponse();
    expect(first.choices[0]?.message.content).toBeTruthy();
    const job = await world.job(response.headers.get("x-job-id")!, principalId("tok", "dave"));
    expect(job.status).toBe("succeeded");
    expect(job.submission.budgetUsd).toBe(0.0001);
    expect(job.costUsd).toBeGreaterThan(0.0001);

    const err = await failure(
      client("dave").chat.completions.create({ model: "claude-haiku-4-5", messages: user("Hi again") }),
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "daily_budget_exceeded", type: "insufficient_quota" });
    const retryAfter = Number(err.headers?.get("retry-after"));
    expect(Math.abs(retryAfter - secondsUntilNextUtcDay(new Date()))).toBeLessThanOrEqual(5);
    expect(err.headers?.get("x-should-retry")).toBe("false");
    expect(world.stub.turnRequests()).toHaveLength(1);
  });
});

describe("GET /v1/usage", () => {
  const usage = async (who: Caller) => {
    const res = await fetch(`${gateway.url}/v1/usage`, {
      headers: { authorization: `Bearer ${TOKENS[who]}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown> & { callers?: Array<{ caller: string }> };
  };

  it("shows a caller its own limits and spend, and an admin everyone's", async () => {
    expect((await fetch(`${gateway.url}/v1/usage`)).status).toBe(401);
    const alice = await usage("alice");
    expect(alice).toMatchObject({
      caller: "tok_alice",
      admin: false,
      agents: ["assistant", "general"],
      models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
      maxConcurrent: 2,
      requestsPerMinute: 30,
      budgetUsdPerDay: 2,
      inFlight: 0,
    });
    // Recorded by the executor, which ran her two turns.
    expect(alice.spentUsdToday).toBeGreaterThan(0);
    expect(alice.callers).toBeUndefined();
    const dave = await usage("dave");
    expect(dave).toMatchObject({ caller: "tok_dave", budgetUsdPerDay: 0.0001, budgetLeftUsd: 0 });
    const ops = await usage("ops");
    expect(ops.admin).toBe(true);
    expect(ops.callers?.map((c) => c.caller)).toEqual(
      expect.arrayContaining(["tok_alice", "tok_bob", "tok_carol", "tok_dave", "tok_ops"]),
    );
  });
});
