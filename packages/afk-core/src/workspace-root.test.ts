import { describe, expect, it } from "vitest";
import { normaliseRoot, workspaceRootFor, workspaceTemplateProblems } from "./workspace-root.js";

describe("workspaceRootFor", () => {
  it.each([
    ["/srv/src/{owner}/{name}", "acme/app", "/srv/src/acme/app"],
    ["/srv/src/{repo}/", "acme/app", "/srv/src/acme/app"],
    ["/srv//checkouts/{name}", "acme/app", "/srv/checkouts/app"],
    ["/srv/one", "acme/app", "/srv/one"],
  ])("%s + %s → %s", (template, repo, expected) => {
    expect(workspaceRootFor(template, repo)).toBe(expected);
  });
  it("normalises like a path", () => {
    expect(normaliseRoot("/a/./b/../c/")).toBe("/a/c");
  });
});

describe("workspaceTemplateProblems", () => {
  it.each([
    ["/srv/{name}", ["a/b", "a/c"], 0],
    ["/srv/one", ["a/b"], 0],
    ["/srv/one", ["a/b", "a/c"], 1],
    ["srv/{name}", ["a/b"], 1],
    ["/srv/{branch}", ["a/b"], 1],
  ] as const)("%s for %j: %i problem(s)", (template, repos, count) => {
    expect(workspaceTemplateProblems(template, repos)).toHaveLength(count);
  });
});
