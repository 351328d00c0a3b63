import { describe, expect, it } from "vitest";
import { compareIssues, selectDispatchable } from "./dispatch-policy.js";
import { at, issue } from "./test-support/fixtures.js";

const base = {
  allowlist: ["acme/app", "acme/api", "acme/web"],
  maxPerTick: 5,
  inProgressLabel: "agent-in-progress",
};
const key = (i: { repo: string; number: number }) => `${i.repo}#${i.number}`;

describe("compareIssues", () => {
  it("orders by priority, then age, then repo and number", () => {
    const list = [
      issue({ repo: "acme/b", number: 9, priority: 1, createdAt: at(5) }),
      issue({ repo: "acme/a", number: 2, priority: 1, createdAt: at(5) }),
      issue({ repo: "acme/a", number: 1, priority: 1, createdAt: at(5) }),
      issue({ repo: "acme/c", number: 3, priority: 0, createdAt: at(9) }),
      issue({ repo: "acme/c", number: 4, priority: 1, createdAt: at(1) }),
      issue({ repo: "acme/c", number: 5, priority: 3, createdAt: at(0) }),
    ];
    expect(list.sort(compareIssues).map(key)).toEqual([
      "acme/c#3",
      "acme/c#4",
      "acme/a#1",
      "acme/a#2",
      "acme/b#9",
      "acme/c#5",
    ]);
  });
});

describe("selectDispatchable", () => {
  const cases: Array<{
    name: string;
    ready: ReturnType<typeof issue>[];
    inProgress?: ReturnType<typeof issue>[];
    allowlist?: string[];
    maxPerTick?: number;
    dispatch: string[];
    skipped?: Record<string, string>;
    idle?: string | null;
  }> = [
    { name: "nothing ready", ready: [], dispatch: [], idle: "nothing-ready" },
    {
      name: "P0 before P1 even when younger",
      ready: [
        issue({ number: 1, priority: 1, createdAt: at(0) }),
        issue({ number: 2, priority: 0, createdAt: at(9) }),
      ],
      maxPerTick: 1,
      dispatch: ["acme/app#2"],
      skipped: { "acme/app#1": "repo-locked" },
    },
    {
      name: "same priority: oldest first",
      ready: [
        issue({ repo: "acme/api", number: 1, createdAt: at(9) }),
        issue({ repo: "acme/web", number: 2, createdAt: at(1) }),
      ],
      maxPerTick: 1,
      dispatch: ["acme/web#2"],
      skipped: { "acme/api#1": "over-cap" },
    },
    {
      name: "one run per repository within a tick",
      ready: [
        issue({ number: 1 }),
        issue({ number: 2, createdAt: at(1) }),
        issue({ repo: "acme/api", number: 3 }),
      ],
      dispatch: ["acme/api#3", "acme/app#1"],
      skipped: { "acme/app#2": "repo-locked" },
    },
    {
      name: "an in-progress issue locks its repository",
      ready: [issue({ number: 2 }), issue({ repo: "acme/api", number: 3 })],
      inProgress: [issue({ number: 1, labels: ["agent-in-progress"] })],
      dispatch: ["acme/api#3"],
      skipped: { "acme/app#2": "repo-locked" },
    },
    {
      name: "every ready repository locked",
      ready: [issue({ number: 2 })],
      inProgress: [issue({ number: 1, labels: ["agent-in-progress"] })],
      dispatch: [],
      skipped: { "acme/app#2": "repo-locked" },
      idle: "all-locked",
    },
    {
      name: "a ready issue already stamped in progress is not dispatched again and locks",
      ready: [
        issue({ number: 1, labels: ["ready-for-agent", "agent-in-progress"] }),
        issue({ number: 2, createdAt: at(1) }),
      ],
      dispatch: [],
      skipped: { "acme/app#1": "already-in-progress", "acme/app#2": "repo-locked" },
      idle: "all-locked",
    },
    {
      name: "only allowlisted repositories",
      ready: [issue({ repo: "evil/app", number: 1, priority: 0 }), issue({ number: 2 })],
      dispatch: ["acme/app#2"],
      skipped: { "evil/app#1": "not-allowlisted" },
    },
    {
      name: "allowlist matches exactly (no prefix, no case folding)",
      ready: [issue({ repo: "acme/app-2", number: 1 }), issue({ repo: "Acme/App", number: 2 })],
      dispatch: [],
      skipped: { "acme/app-2#1": "not-allowlisted", "Acme/App#2": "not-allowlisted" },
      idle: "none-allowlisted",
    },
    {
      name: "empty allowlist dispatches nothing",
      ready: [issue({ number: 1 })],
      allowlist: [],
      dispatch: [],
      idle: "none-allowlisted",
    },
    {
      name: "global cap per tick",
      ready: [
        issue({ repo: "acme/app", number: 1, createdAt: at(0) }),
        issue({ repo: "acme/api", number: 2, createdAt: at(1) }),
        issue({ repo: "acme/web", number: 3, createdAt: at(2) }),
      ],
      maxPerTick: 2,
      dispatch: ["acme/app#1", "acme/api#2"],
      skipped: { "acme/web#3": "over-cap" },
    },
  ];

  it.each(cases)("$name", (c) => {
    const plan = selectDispatchable({
      ...base,
      ready: c.ready,
      inProgress: c.inProgress ?? [],
      allowlist: c.allowlist ?? base.allowlist,
      maxPerTick: c.maxPerTick ?? base.maxPerTick,
    });
    expect(plan.dispatch.map(key)).toEqual(c.dispatch);
    if (c.skipped) {
      expect(Object.fromEntries(plan.skipped.map((s) => [key(s.issue), s.reason]))).toEqual(c.skipped);
    }
    expect(plan.idle).toBe(c.idle ?? null);
  });

  it("does not mutate its input", () => {
    const ready = [issue({ number: 2, createdAt: at(1) }), issue({ number: 1 })];
    selectDispatchable({ ...base, ready, inProgress: [] });
    expect(ready.map((i) => i.number)).toEqual([2, 1]);
  });
});
