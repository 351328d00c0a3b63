import { describe, expect, it } from "vitest";
import type { ApiOptions } from "../http.js";
import { startFakeForgejo } from "../testing/fake-forgejo.js";
import { startFakeGithub } from "../testing/fake-github.js";
import type { FakeTracker } from "../testing/fake-rest.js";
import type { TrackerStore } from "../testing/tracker-store.js";
import { createForgejoChecks } from "./forgejo.js";
import { createGithubChecks } from "./github.js";
import type { CommitChecks } from "./port.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** The checks `create` reads for SHA in acme/app, from a fake that `seed` filled. */
async function checksOf(
  start: () => Promise<FakeTracker>,
  create: (options: ApiOptions) => CommitChecks,
  seed: (store: TrackerStore) => void = () => {},
) {
  const fake = await start();
  try {
    fake.store.addRepo("acme/app");
    seed(fake.store);
    return await create({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 }).checksFor(
      "acme/app",
      SHA,
    );
  } finally {
    await fake.close();
  }
}

describe("Forgejo CI: commit statuses", () => {
  it("maps the latest status per context", async () => {
    const checks = await checksOf(startFakeForgejo, createForgejoChecks, (store) => {
      store.setStatus("acme/app", SHA, "ci/test", "pending");
      store.setStatus("acme/app", SHA, "ci/test", "failure", { description: "2 tests failed" });
      store.setStatus("acme/app", SHA, "ci/lint", "success");
      store.setStatus("acme/app", SHA, "ci/docs", "warning");
      store.setStatus("acme/app", SHA, "ci/e2e", "error");
      store.setStatus("acme/app", SHA, "deploy", "pending");
    });
    expect(Object.fromEntries(checks.map((c) => [c.name, c.state]))).toEqual({
      "ci/test": "failure",
      "ci/lint": "success",
      "ci/docs": "success",
      "ci/e2e": "failure",
      deploy: "pending",
    });
    expect(checks.find((c) => c.name === "ci/test")).toMatchObject({
      description: "2 tests failed",
      url: "https://ci.example/ci/test",
    });
  });

  it("no statuses yet: no checks", async () => {
    expect(await checksOf(startFakeForgejo, createForgejoChecks)).toEqual([]);
  });
});

describe("GitHub CI: check runs and commit statuses", () => {
  it("reads both, and maps check-run status and conclusion", async () => {
    const checks = await checksOf(startFakeGithub, createGithubChecks, (store) => {
      store.setCheckRun("acme/app", SHA, "build", "completed", "success");
      store.setCheckRun("acme/app", SHA, "test", "completed", "failure", "3 failed");
      store.setCheckRun("acme/app", SHA, "e2e", "in_progress");
      store.setCheckRun("acme/app", SHA, "docs", "completed", "skipped");
      store.setCheckRun("acme/app", SHA, "flaky", "completed", "timed_out");
      store.setCheckRun("acme/app", SHA, "approve", "completed", "action_required");
      store.setStatus("acme/app", SHA, "external/ci", "error");
    });
    expect(Object.fromEntries(checks.map((c) => [c.name, c.state]))).toEqual({
      build: "success",
      test: "failure",
      e2e: "pending",
      docs: "success",
      flaky: "failure",
      approve: "pending",
      "external/ci": "failure",
    });
    expect(checks.find((c) => c.name === "test")?.description).toBe("3 failed");
  });

  it("no signal at all is no checks (not the combined status's `pending`)", async () => {
    expect(await checksOf(startFakeGithub, createGithubChecks)).toEqual([]);
  });
});
