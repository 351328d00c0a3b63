import type { Context } from "hono";
import type {
  GithubCheckRuns,
  GithubCombinedStatus,
  GithubIssue,
  GithubStatus,
} from "../tracker/github-schemas.js";
import { commentJson, type FakeTracker, type FakeTrackerOptions, fakeTracker } from "./fake-rest.js";
import type { FakeIssue } from "./tracker-store.js";

export type FakeGithub = FakeTracker;

/**
 * GitHub's REST API as the AFK loop uses it, rejecting what GitHub rejects: no User-Agent → 403,
 * bad credentials → 401, a label the issue does not carry → 404. `labels=` matches ALL the listed
 * labels, and the issues list includes pull requests (with a `pull_request` key). The combined
 * status says `pending` when there are no statuses, as GitHub's does.
 */
export async function startFakeGithub(options: FakeTrackerOptions = {}): Promise<FakeGithub> {
  const base = (c: Context) => new URL(c.req.url).origin;
  const docs = "https://docs.github.com/rest";

  const notFound = (c: Context) =>
    c.json({ message: "Not Found", documentation_url: docs, status: "404" }, 404);
  const invalid = (c: Context, message: string) =>
    c.json({ message, documentation_url: docs, status: "422" }, 422);
  const badJson = (c: Context) =>
    c.json({ message: "Problems parsing JSON", documentation_url: docs, status: "400" }, 400);
  const tracker = fakeTracker(options, {
    token: "test-github-token",
    notFound,
    pageSize: { param: "per_page", default: 30, max: 100 },
  });
  const { app, store, repoApp, issueApp, page, issuePage, jsonBody, authorized } = tracker;

  app.use("*", async (c, next) => {
    if (!c.req.header("user-agent")) {
      return c.text(
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        403,
      );
    }
    if (!authorized(c))
      return c.json({ message: "Bad credentials", documentation_url: docs, status: "401" }, 401);
    await next();
  });

  function labelsJson(repo: string, issue: FakeIssue) {
    return issue.labelIds.map((id) => {
      const l = store.repo(repo).labels.find((x) => x.id === id)!;
      return { id: l.id, name: l.name, color: l.color };
    });
  }

  function issueJson(c: Context, repo: string, issue: FakeIssue): GithubIssue {
    const json: GithubIssue = {
      id: issue.number * 1000,
      number: issue.number,
      title: issue.title,
      body: issue.body || null,
      state: issue.state,
      labels: labelsJson(repo, issue),
      html_url: `${base(c)}/${repo}/${issue.isPull ? "pull" : "issues"}/${issue.number}`,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
    };
    if (issue.isPull) json.pull_request = { url: `${base(c)}/repos/${repo}/pulls/${issue.number}` };
    return json;
  }

  repoApp.get("/issues", (c) => {
    const wanted = (c.req.query("labels") ?? "").split(",").filter(Boolean);
    const listed = issuePage(c, (i) => {
      const names = store.labelsOf(c.var.repo.name, i.number);
      // ALL: an issue must carry every listed label.
      return wanted.every((w) => names.includes(w));
    });
    return c.json(listed.map((i) => issueJson(c, c.var.repo.name, i)));
  });

  repoApp.patch("/issues/comments/:id{[0-9]+}", async (c) => {
    const comment = store.commentById(c.var.repo.name, Number(c.req.param("id")));
    if (!comment) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (typeof body.body !== "string") return invalid(c, "Validation Failed");
    return c.json(commentJson(store.editComment(comment, body.body)));
  });

  repoApp.get("/commits/:ref/status", (c) => {
    const sha = c.req.param("ref");
    const statuses = store.latestStatuses(c.var.repo.name, sha);
    const worst = ["error", "failure", "pending", "success"].find((s) => statuses.some((x) => x.state === s));
    const body: GithubCombinedStatus = {
      // GitHub's quirk: no statuses at all reads `pending`.
      state: (worst ?? "pending") as GithubStatus["state"],
      sha,
      total_count: statuses.length,
      statuses: statuses.map((s) => ({
        id: s.id,
        context: s.context,
        state: s.state as GithubStatus["state"],
        target_url: s.targetUrl,
        description: s.description,
      })),
    };
    return c.json(body);
  });

  repoApp.get("/commits/:ref/check-runs", (c) => {
    const runs = c.var.repo.checkRuns.get(c.req.param("ref")) ?? [];
    const body: GithubCheckRuns = {
      total_count: runs.length,
      check_runs: page(c, runs).map((r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        conclusion: r.conclusion as GithubCheckRuns["check_runs"][number]["conclusion"],
        html_url: r.htmlUrl,
        output: { title: r.title, summary: null },
      })),
    };
    return c.json(body);
  });

  issueApp.get("/", (c) => c.json(issueJson(c, c.var.repo.name, c.var.issue)));

  issueApp.patch("/", async (c) => {
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (body.state !== undefined) {
      if (body.state !== "open" && body.state !== "closed") return invalid(c, "Validation Failed");
      c.var.issue.state = body.state;
    }
    if (
      body.state_reason !== undefined &&
      !["completed", "not_planned", "reopened", null].includes(body.state_reason as string)
    ) {
      return invalid(c, "Validation Failed");
    }
    store.touch(c.var.issue);
    return c.json(issueJson(c, c.var.repo.name, c.var.issue));
  });

  issueApp.post("/labels", async (c) => {
    const { repo, issue } = c.var;
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    const labels = body.labels;
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string" || l === ""))
      return invalid(c, "Invalid request.");
    // GitHub creates a label that does not exist yet.
    for (const name of labels as string[]) {
      const id = store.labelId(repo.name, name, true)!;
      if (!issue.labelIds.includes(id)) issue.labelIds.push(id);
    }
    store.touch(issue);
    return c.json(labelsJson(repo.name, issue));
  });

  issueApp.delete("/labels/:name", (c) => {
    const { repo, issue } = c.var;
    const id = store.labelId(repo.name, c.req.param("name"));
    if (id === null || !issue.labelIds.includes(id)) {
      return c.json({ message: "Label does not exist", documentation_url: docs, status: "404" }, 404);
    }
    issue.labelIds = issue.labelIds.filter((x) => x !== id);
    store.touch(issue);
    return c.json(labelsJson(repo.name, issue));
  });

  issueApp.get("/comments", (c) => c.json(page(c, c.var.issue.comments).map(commentJson)));

  issueApp.post("/comments", async (c) => {
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (typeof body.body !== "string" || body.body === "") return invalid(c, "Validation Failed");
    return c.json(commentJson(store.addComment(c.var.repo.name, c.var.issue.number, body.body)), 201);
  });

  return tracker.serve();
}
