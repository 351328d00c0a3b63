import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { apiError, descendantPids, eventually, messagesText, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../../src/start.js";
import { createWorld, submit, type World, waitForJob } from "../harness.js";

// Every way the real CLI fails, driven by the Messages stub (or by killing the CLI), through the
// executor: each ends in its documented state and reason, within the job's own deadline.
let world: World;
let ex: RunningExecutor;
const rows: string[][] = [];
beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: "2" });
});
afterAll(async () => {
  console.log(
    `CLI failure modes through the executor:\n${rows.map((r) => `  ${r[0]!.padEnd(34)} → ${r[1]}`).join("\n")}`,
  );
  await world?.close();
});

const run = async (prompt: string, extra: Record<string, unknown> = {}) => {
  const r = await submit(ex, { agent: "recruiter-triage", prompt, ...extra });
  expect(r.status).toBe(202);
  return waitForJob(ex, r.body.job.id as string);
};
const row = (mode: string, job: Record<string, unknown>) => {
  const error = job.error as { reason?: string } | undefined;
  rows.push([mode, `${job.status}${error?.reason ? ` (${error.reason})` : ""}`]);
};

describe("CLI failure modes", () => {
  it.each([
    [401, "claude_not_authenticated"],
    [429, "upstream_error"],
    [500, "upstream_error"],
    [529, "upstream_error"],
  ])("the API answers %i: the job fails %s", async (status, reason) => {
    world.stub.setHandler(() => apiError(status));
    const job = await run(`fail with ${status}`);
    row(`API ${status}`, job);
    expect(job).toMatchObject({ status: "failed", error: { reason } });
  });

  it("the API never answers: the job times out at its own deadline", async () => {
    world.stub.setHandler(() => ({ kind: "hang" }));
    const job = await run("hang", { timeoutSeconds: 3 });
    row("API hangs (timeoutSeconds 3)", job);
    expect(job).toMatchObject({ status: "timed_out", error: { reason: "timeout" } });
  });

  it("the CLI is killed mid-run: the job fails crashed", async () => {
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[hang]") ? { kind: "hang" } : text("x"),
    );
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "[hang] crash" });
    await world.stub.waitForTurnRequests(1);
    const clis = await eventually(
      async () => {
        const pids = await descendantPids(process.pid);
        const found = [];
        for (const pid of pids) {
          try {
            const cmd = readFileSync(`/proc/${pid}/cmdline`, "latin1");
            if (cmd.includes("--output-format") && cmd.includes("stream-json")) found.push(pid);
          } catch {
            // gone
          }
        }
        return found.length > 0 ? found : undefined;
      },
      { what: "the job's CLI" },
    );
    for (const pid of clis) process.kill(pid, "SIGKILL");
    const job = await waitForJob(ex, r.body.job.id as string);
    row("CLI killed (SIGKILL)", job);
    expect(job).toMatchObject({ status: "failed", error: { reason: "crashed" } });
  });

  it("a session the caller never recorded: 404 session_not_found at submit, nothing runs", async () => {
    world.stub.reset();
    const r = await submit(ex, {
      agent: "recruiter-triage",
      prompt: "resume",
      session: { kind: "resume", id: randomUUID() },
    });
    rows.push(["resume of an unknown session", `${r.status} ${r.body.error}`]);
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("session_not_found");
    expect(world.stub.requests).toEqual([]);
  });
});
