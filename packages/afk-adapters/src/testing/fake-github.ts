import { type Context, Hono } from "hono";
import type {
  GithubCheckRuns,
  GithubCombinedStatus,
  GithubComment,
  GithubIssue,
  GithubStatus,
} from "../tracker/github-schemas.js";
import { type Listening, listen, type SeenRequest } from "./serve.js";
import { type FakeComment, type FakeIssue, TrackerStore } from "./tracker-store.js";

export interface FakeGithub {
  url: string;
  token: string;
  store: TrackerStore;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * GitHub's REST API as the AFK loop uses it, rejecting what GitHub rejects: no User-Agent → 403,
 * bad credentials → 401, a label the issue does not carry → 404. `labels=` matches ALL the listed
 * labels, and the issues list includes pull requests (with a `pull_request` key). The combined
 * status says `pending` when there are no statuses, as GitHub's does.
 */
export async function startFakeGithub(
  options: { token?: string; store?: TrackerStore; now?: () => Date } = {},
): Promise<FakeGithub> {
  const token = options.token ?? "test-github-token";
  const store = options.store ?? new TrackerStore(options.now);
  const requests: SeenRequest[] = [];
  const app = new Hono();
  const base = (c: Context) => new URL(c.req.url).origin;
  const docs = "https://docs.github.com/rest";

  app.use("*", async (c, next) => {
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname });
    if (!c.req.header("user-agent")) {
      return c.text(
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        403,
      );
    }
    const given = /^(?:token|Bearer) (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (given !== token)
      return c.json({ message: "Bad credentials", documentation_url: docs, status: "401" }, 401);
    await next();
  });

  const notFound = (c: Context) =>
    c.json({ message: "Not Found", documentation_url: docs, status: "404" }, 404);
  const invalid = (c: Context, message: string) =>
    c.json({ message, documentation_url: docs, status: "422" }, 422);

  function repoOf(c: Context) {
    return store.repos.get(`${c.req.param("owner")}/${c.req.param("repo")}`);
  }

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

  function commentJson(comment: FakeComment): GithubComment {
    return {
      id: comment.id,
      body: comment.body,
      user: { login: comment.user },
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
    };
  }

  async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
    try {
      const body = await c.req.json();
      return typeof body === "object" && body !== null && !Array.isArray(body) ? body : null;
    } catch {
      return null;
    }
  }
  const badJson = (c: Context) =>
    c.json({ message: "Problems parsing JSON", documentation_url: docs, status: "400" }, 400);

  function page<T>(c: Context, items: T[]): T[] {
    const perPage = Math.min(Number(c.req.query("per_page") ?? 30), 100);
    const p = Number(c.req.query("page") ?? 1);
    return items.slice((p - 1) * perPage, p * perPage);
  }

  const issuePath = "/repos/:owner/:repo/issues/:number{[0-9]+}";

  app.get("/repos/:owner/:repo/issues", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const state = c.req.query("state") ?? "open";
    const wanted = (c.req.query("labels") ?? "").split(",").filter(Boolean);
    const matching = repo.issues.filter((i) => {
      if (state !== "all" && i.state !== state) return false;
      const names = store.labelsOf(repo.name, i.number);
      // ALL: an issue must carry every listed label.
      return wanted.every((w) => names.includes(w));
    });
    matching.sort((a, b) => b.number - a.number);
    return c.json(page(c, matching).map((i) => issueJson(c, repo.name, i)));
  });

  app.get(issuePath, (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    return c.json(issueJson(c, repo.name, issue));
  });

  app.patch(issuePath, async (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (body.state !== undefined) {
      if (body.state !== "open" && body.state !== "closed") return invalid(c, "Validation Failed");
      issue.state = body.state;
    }
    if (
      body.state_reason !== undefined &&
      !["completed", "not_planned", "reopened", null].includes(body.state_reason as string)
    ) {
      return invalid(c, "Validation Failed");
    }
    store.touch(issue);
    return c.json(issueJson(c, repo.name, issue));
  });

  app.post(`${issuePath}/labels`, async (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
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

  app.delete(`${issuePath}/labels/:name`, (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const id = store.labelId(repo.name, c.req.param("name"));
    if (id === null || !issue.labelIds.includes(id)) {
      return c.json({ message: "Label does not exist", documentation_url: docs, status: "404" }, 404);
    }
    issue.labelIds = issue.labelIds.filter((x) => x !== id);
    store.touch(issue);
    return c.json(labelsJson(repo.name, issue));
  });

  app.get(`${issuePath}/comments`, (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    return c.json(page(c, issue.comments).map(commentJson));
  });

  app.post(`${issuePath}/comments`, async (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (typeof body.body !== "string" || body.body === "") return invalid(c, "Validation Failed");
    return c.json(commentJson(store.addComment(repo.name, issue.number, body.body)), 201);
  });

  app.patch("/repos/:owner/:repo/issues/comments/:id{[0-9]+}", async (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const id = Number(c.req.param("id"));
    const comment = repo.issues.flatMap((i) => i.comments).find((x) => x.id === id);
    if (!comment) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return badJson(c);
    if (typeof body.body !== "string") return invalid(c, "Validation Failed");
    comment.body = body.body;
    comment.updatedAt = new Date().toISOString();
    return c.json(commentJson(comment));
  });

  app.get("/repos/:owner/:repo/commits/:ref/status", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const sha = c.req.param("ref");
    const statuses = store.latestStatuses(repo.name, sha);
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

  app.get("/repos/:owner/:repo/commits/:ref/check-runs", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const runs = repo.checkRuns.get(c.req.param("ref")) ?? [];
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

  app.notFound((c) => notFound(c));

  const server: Listening = await listen(app);
  return { url: server.url, token, store, requests, close: () => server.close() };
}
