import { type Context, Hono } from "hono";
import type {
  ForgejoCombinedStatus,
  ForgejoComment,
  ForgejoIssue,
  ForgejoLabel,
} from "../tracker/forgejo-schemas.js";
import { type Listening, listen, type SeenRequest } from "./serve.js";
import { type FakeComment, type FakeIssue, TrackerStore } from "./tracker-store.js";

export interface FakeForgejo {
  url: string;
  token: string;
  store: TrackerStore;
  requests: SeenRequest[];
  close(): Promise<void>;
}

const STATUS_STATES = new Set(["pending", "success", "error", "failure", "warning"]);

/**
 * Forgejo's API v1 as the AFK loop uses it, rejecting what Forgejo rejects: no token → 401, an
 * unknown repo or issue → 404, a label removed by name instead of numeric id → 422. `labels=`
 * matches ANY of the listed labels; the issue list includes pull requests unless `type=issues`.
 */
export async function startFakeForgejo(
  options: { token?: string; store?: TrackerStore; now?: () => Date } = {},
): Promise<FakeForgejo> {
  const token = options.token ?? "test-forgejo-token";
  const store = options.store ?? new TrackerStore(options.now);
  const requests: SeenRequest[] = [];
  const app = new Hono().basePath("/api/v1");
  const base = (c: Context) => new URL(c.req.url).origin;

  app.use("*", async (c, next) => {
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname });
    const auth = c.req.header("authorization") ?? "";
    const given = /^(?:token|Bearer) (.+)$/.exec(auth)?.[1];
    if (given !== token) return c.json({ message: "token is required", url: `${base(c)}/api/swagger` }, 401);
    await next();
  });

  const notFound = (c: Context) =>
    c.json({ errors: null, message: "The target couldn't be found.", url: base(c) }, 404);

  function repoOf(c: Context) {
    return store.repos.get(`${c.req.param("owner")}/${c.req.param("repo")}`);
  }

  function labelJson(repo: string, id: number): ForgejoLabel {
    const label = store.repo(repo).labels.find((l) => l.id === id)!;
    return { id: label.id, name: label.name, color: label.color };
  }

  function issueJson(c: Context, repo: string, issue: FakeIssue): ForgejoIssue {
    return {
      id: issue.number * 1000,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labelIds.map((id) => labelJson(repo, id)),
      html_url: `${base(c)}/${repo}/${issue.isPull ? "pulls" : "issues"}/${issue.number}`,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      pull_request: issue.isPull ? { merged: false } : null,
    };
  }

  function commentJson(comment: FakeComment): ForgejoComment {
    return {
      id: comment.id,
      body: comment.body,
      user: { login: comment.user },
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
    };
  }

  async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
    if (!(c.req.header("content-type") ?? "").includes("application/json")) return null;
    try {
      const body = await c.req.json();
      return typeof body === "object" && body !== null && !Array.isArray(body) ? body : null;
    } catch {
      return null;
    }
  }
  const unprocessable = (c: Context, message: string) => c.json({ message, url: base(c) }, 422);

  const issuePath = "/repos/:owner/:repo/issues/:number{[0-9]+}";

  app.get("/repos/:owner/:repo/issues", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const state = c.req.query("state") ?? "open";
    const type = c.req.query("type");
    const wanted = (c.req.query("labels") ?? "").split(",").filter(Boolean);
    const limit = Math.min(Number(c.req.query("limit") ?? 20), 50);
    const page = Number(c.req.query("page") ?? 1);
    const matching = repo.issues.filter((i) => {
      if (state !== "all" && i.state !== state) return false;
      if (type === "issues" && i.isPull) return false;
      if (type === "pulls" && !i.isPull) return false;
      const names = store.labelsOf(repo.name, i.number);
      // ANY: an issue with at least one of the labels matches.
      return wanted.length === 0 || wanted.some((w) => names.includes(w));
    });
    matching.sort((a, b) => b.number - a.number);
    return c.json(matching.slice((page - 1) * limit, page * limit).map((i) => issueJson(c, repo.name, i)));
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
    if (!body) return unprocessable(c, "invalid JSON body");
    if (body.state !== undefined) {
      if (body.state !== "open" && body.state !== "closed") return unprocessable(c, "invalid state");
      issue.state = body.state;
    }
    store.touch(issue);
    return c.json(issueJson(c, repo.name, issue), 201);
  });

  app.get("/repos/:owner/:repo/labels", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const limit = Math.min(Number(c.req.query("limit") ?? 20), 50);
    const page = Number(c.req.query("page") ?? 1);
    return c.json(repo.labels.slice((page - 1) * limit, page * limit).map((l) => labelJson(repo.name, l.id)));
  });

  app.post(`${issuePath}/labels`, async (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const body = await jsonBody(c);
    if (!body || !Array.isArray(body.labels)) return unprocessable(c, "labels must be an array");
    const ids: number[] = [];
    for (const l of body.labels) {
      const id = typeof l === "number" ? l : typeof l === "string" ? store.labelId(repo.name, l) : null;
      if (id === null || !repo.labels.some((x) => x.id === id))
        return unprocessable(c, `label does not exist [id: ${l}]`);
      ids.push(id);
    }
    for (const id of ids) if (!issue.labelIds.includes(id)) issue.labelIds.push(id);
    store.touch(issue);
    return c.json(issue.labelIds.map((id) => labelJson(repo.name, id)));
  });

  app.delete(`${issuePath}/labels/:id`, (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const raw = c.req.param("id");
    // Forgejo parses the id as an integer: a name (or an unknown id) is "label does not exist".
    const id = /^[0-9]+$/.test(raw) ? Number(raw) : 0;
    if (!repo.labels.some((l) => l.id === id)) return unprocessable(c, `label does not exist [id: ${raw}]`);
    issue.labelIds = issue.labelIds.filter((x) => x !== id);
    store.touch(issue);
    return c.body(null, 204);
  });

  app.get(`${issuePath}/comments`, (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    return c.json(issue.comments.map(commentJson));
  });

  app.post(`${issuePath}/comments`, async (c) => {
    const repo = repoOf(c);
    const issue = repo && store.issue(repo.name, Number(c.req.param("number")));
    if (!repo || !issue) return notFound(c);
    const body = await jsonBody(c);
    if (!body || typeof body.body !== "string" || body.body === "")
      return unprocessable(c, "body is required");
    return c.json(commentJson(store.addComment(repo.name, issue.number, body.body)), 201);
  });

  app.patch("/repos/:owner/:repo/issues/comments/:id{[0-9]+}", async (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const id = Number(c.req.param("id"));
    const comment = repo.issues.flatMap((i) => i.comments).find((x) => x.id === id);
    if (!comment) return notFound(c);
    const body = await jsonBody(c);
    if (!body || typeof body.body !== "string") return unprocessable(c, "body is required");
    comment.body = body.body;
    comment.updatedAt = new Date().toISOString();
    return c.json(commentJson(comment));
  });

  app.get("/repos/:owner/:repo/commits/:ref/status", (c) => {
    const repo = repoOf(c);
    if (!repo) return notFound(c);
    const sha = c.req.param("ref");
    const statuses = store.latestStatuses(repo.name, sha).filter((s) => STATUS_STATES.has(s.state));
    const worst = ["error", "failure", "pending", "warning", "success"].find((s) =>
      statuses.some((x) => x.state === s),
    );
    const body: ForgejoCombinedStatus = {
      state: worst ?? "",
      sha,
      total_count: statuses.length,
      statuses: statuses.map((s) => ({
        id: s.id,
        context: s.context,
        state: s.state as "pending",
        target_url: s.targetUrl,
        description: s.description,
        created_at: s.createdAt,
      })),
    };
    return c.json(body);
  });

  app.notFound((c) => notFound(c));

  const server: Listening = await listen(app as unknown as Hono);
  return { url: server.url, token, store, requests, close: () => server.close() };
}
