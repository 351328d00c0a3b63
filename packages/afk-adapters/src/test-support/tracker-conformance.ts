import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TrackerStore } from "../testing/tracker-store.js";
import type { Tracker } from "../tracker/port.js";

export interface TrackerWorld {
  tracker: Tracker;
  store: TrackerStore;
  close(): Promise<void>;
}

/** One suite, every tracker adapter (against its fake): the port means the same thing everywhere. */
export function trackerConformance(name: string, start: () => Promise<TrackerWorld>): void {
  describe(`tracker conformance: ${name}`, () => {
    let w: TrackerWorld;
    beforeEach(async () => {
      w = await start();
      w.store.addRepo("acme/app");
    });
    afterEach(async () => w.close());

    it("lists open issues with the label, never pull requests, never closed ones", async () => {
      const a = w.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent", "P1"], body: "text" });
      w.store.addIssue("acme/app", { title: "b", labels: ["bug"] });
      w.store.addIssue("acme/app", { title: "pr", labels: ["ready-for-agent"], isPull: true });
      const closed = w.store.addIssue("acme/app", { title: "c", labels: ["ready-for-agent"] });
      w.store.issue("acme/app", closed)!.state = "closed";
      const list = await w.tracker.listOpenIssues("acme/app", "ready-for-agent");
      expect(list).toEqual([
        expect.objectContaining({
          repo: "acme/app",
          number: a,
          title: "a",
          body: "text",
          priority: 1,
          labels: ["ready-for-agent", "P1"],
        }),
      ]);
      expect(list[0]?.url).toMatch(/acme\/app\/issues\/1$/);
    });

    it("pages through long lists", async () => {
      for (let i = 0; i < 120; i++)
        w.store.addIssue("acme/app", { title: `i${i}`, labels: ["ready-for-agent"] });
      expect(await w.tracker.listOpenIssues("acme/app", "ready-for-agent")).toHaveLength(120);
    });

    it("gets one issue fresh, null when absent", async () => {
      const n = w.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
      expect(await w.tracker.getIssue("acme/app", n)).toMatchObject({
        number: n,
        open: true,
        labels: ["ready-for-agent"],
      });
      expect(await w.tracker.getIssue("acme/app", 999)).toBeNull();
    });

    it("adds and removes labels; removing an absent label is fine", async () => {
      const n = w.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent", "P0"] });
      await w.tracker.addLabel("acme/app", n, "agent-in-progress");
      await w.tracker.removeLabel("acme/app", n, "ready-for-agent");
      await w.tracker.removeLabel("acme/app", n, "ready-for-human");
      expect(w.store.labelsOf("acme/app", n)).toEqual(["P0", "agent-in-progress"]);
    });

    it("comments: create, list oldest first, edit", async () => {
      const n = w.store.addIssue("acme/app", { title: "a" });
      w.store.addComment("acme/app", n, "a human was here", "alice");
      const mine = await w.tracker.createComment("acme/app", n, "checklist v1");
      await w.tracker.editComment("acme/app", mine.id, "checklist v2");
      const comments = await w.tracker.listComments("acme/app", n);
      expect(comments.map((c) => [c.author, c.body])).toEqual([
        ["alice", "a human was here"],
        ["afk-bot", "checklist v2"],
      ]);
    });

    it("closes an issue", async () => {
      const n = w.store.addIssue("acme/app", { title: "a" });
      await w.tracker.closeIssue("acme/app", n);
      expect(w.store.issue("acme/app", n)?.state).toBe("closed");
    });

    it("an unknown repository is an error, not an empty list", async () => {
      await expect(w.tracker.listOpenIssues("acme/nope", "ready-for-agent")).rejects.toThrow(/404/);
    });
  });
}
