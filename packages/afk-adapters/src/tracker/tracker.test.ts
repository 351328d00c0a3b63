import { describe, expect, it } from "vitest";
import { AdapterPreconditionError, UpstreamHttpError } from "../errors.js";
import { trackerConformance } from "../test-support/tracker-conformance.js";
import { startFakeForgejo } from "../testing/fake-forgejo.js";
import { startFakeGithub } from "../testing/fake-github.js";
import { createForgejoTracker } from "./forgejo.js";
import { createGithubTracker } from "./github.js";

trackerConformance("forgejo", async () => {
  const fake = await startFakeForgejo();
  const tracker = createForgejoTracker({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 });
  return { tracker, store: fake.store, close: fake.close };
});

trackerConformance("github", async () => {
  const fake = await startFakeGithub();
  const tracker = createGithubTracker({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 });
  return { tracker, store: fake.store, close: fake.close };
});

describe("forgejo specifics", () => {
  it("removes labels by numeric id, and asks for one label at a time", async () => {
    const fake = await startFakeForgejo();
    try {
      fake.store.addRepo("acme/app");
      const n = fake.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
      const tracker = createForgejoTracker({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 });
      await tracker.removeLabel("acme/app", n, "ready-for-agent");
      const deletes = fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path);
      expect(deletes).toEqual([expect.stringMatching(/\/labels\/[0-9]+$/)]);
    } finally {
      await fake.close();
    }
  });

  it("a label missing in the repository is a precondition error naming it", async () => {
    const fake = await startFakeForgejo();
    try {
      fake.store.addRepo("acme/app", ["bug"]);
      const n = fake.store.addIssue("acme/app", { title: "a" });
      const tracker = createForgejoTracker({ baseUrl: fake.url, token: fake.token, fetch, timeoutMs: 5000 });
      const err = await tracker.addLabel("acme/app", n, "agent-in-progress").catch((e) => e);
      expect(err).toBeInstanceOf(AdapterPreconditionError);
      expect(err.message).toMatch(/agent-in-progress.*create it/);
    } finally {
      await fake.close();
    }
  });

  it("sends `Authorization: token …`; a wrong token is a 401", async () => {
    const fake = await startFakeForgejo();
    try {
      fake.store.addRepo("acme/app");
      const bad = createForgejoTracker({ baseUrl: fake.url, token: "nope", fetch, timeoutMs: 5000 });
      const err = await bad.listOpenIssues("acme/app", "x").catch((e) => e);
      expect(err).toBeInstanceOf(UpstreamHttpError);
      expect(err.status).toBe(401);
      expect(err.message).not.toContain("nope");
    } finally {
      await fake.close();
    }
  });
});
