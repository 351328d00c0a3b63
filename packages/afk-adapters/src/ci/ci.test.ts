import { describe, expect, it } from "vitest";
import { startFakeForgejo } from "../testing/fake-forgejo.js";
import { startFakeGithub } from "../testing/fake-github.js";
import { createForgejoChecks } from "./forgejo.js";
import { createGithubChecks } from "./github.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("Forgejo CI: commit statuses", () => {
  it("maps the latest status per context", async () => {
    const fake = await startFakeForgejo();
    try {
      fake.store.addRepo("acme/app");
      fake.store.setStatus("acme/app", SHA, "ci/test", "pending");
      fake.store.setStatus("acme/app", SHA, "ci/test", "failure", { description: "2 tests failed" });
      fake.store.setStatus("acme/app", SHA, "ci/lint", "success");
      fake.store.setStatus("acme/app", SHA, "ci/docs", "warning");
      fake.store.setStatus("acme/app", SHA, "ci/e2e", "error");
      fake.store.setStatus("acme/app", SHA, "deploy", "pending");
      const checks = await createForgejoChecks({
        baseUrl: fake.url,
        token: fake.token,
        fetch,
        timeoutMs: 5000,
      }).checksFor("acme/app", SHA);
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
    } finally {
      await fake.close();
    }
  });

  it("no statuses yet: no checks", async () => {
    const fake = await startFakeForgejo();
    try {
      fake.store.addRepo("acme/app");
      expect(
        await createForgejoChecks({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 }).checksFor(
          "acme/app",
          SHA,
        ),
      ).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});

describe("GitHub CI: check runs and commit statuses", () => {
  it("reads both, and maps check-run status and conclusion", async () => {
    const fake = await startFakeGithub();
    try {
      fake.store.addRepo("acme/app");
      fake.store.setCheckRun("acme/app", SHA, "build", "completed", "success");
      fake.store.setCheckRun("acme/app", SHA, "test", "completed", "failure", "3 failed");
      fake.store.setCheckRun("acme/app", SHA, "e2e", "in_progress");
      fake.store.setCheckRun("acme/app", SHA, "docs", "completed", "skipped");
      fake.store.setCheckRun("acme/app", SHA, "flaky", "completed", "timed_out");
      fake.store.setCheckRun("acme/app", SHA, "approve", "completed", "action_required");
      fake.store.setStatus("acme/app", SHA, "external/ci", "error");
      const checks = await createGithubChecks({
        baseUrl: fake.url,
        token: fake.token,
        fetch,
        timeoutMs: 5000,
      }).checksFor("acme/app", SHA);
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
    } finally {
      await fake.close();
    }
  });

  it("no signal at all is no checks (not the combined status's `pending`)", async () => {
    const fake = await startFakeGithub();
    try {
      fake.store.addRepo("acme/app");
      expect(
        await createGithubChecks({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 }).checksFor(
          "acme/app",
          SHA,
        ),
      ).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});
