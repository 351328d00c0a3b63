import type { Context } from "hono";
import type { ForgejoCombinedStatus, ForgejoIssue, ForgejoLabel } from "../tracker/forgejo-schemas.js";
import { commentJson, type FakeTracker, type FakeTrackerOptions, fakeTracker } from "./fake-rest.js";
import type { FakeIssue } from "./tracker-store.js";

export type FakeForgejo = FakeTracker;

const STATUS_STATES = new Set(["pending", "success", "error", "failure", "warning"]);

/**
 * Forgejo's API v1 as the AFK loop uses it, rejecting what Forgejo rejects: no token → 401, an
 * unknown repo or issue → 404, a label removed by name instead of numeric id → 422. `labels=`
 * matches ANY of the listed labels; the issue list includes pull requests unless `type=issues`.
 */
export async function startFakeForgejo(options: FakeTrackerOptions = {}): Promise<FakeForgejo> {
  const base = (c: Context) => new URL(c.req.url).origin;
  const notFound = (c: Context) =>
    c.json({ errors: null, message: "The target couldn't be found.", url: base(c) }, 404);
  const unprocessable = (c: Context, message: string) => c.json({ message, url: base(c) }, 422);
  const tracker = fakeTracker(options, {
    token: "test-forgejo-token",
    basePath: "/api/v1",
    notFound,
    pageSize: { param: "limit", default: 20, max: 50 },
    jsonNeedsContentType: true,
  });
  const { app, store, repoApp, issueApp, page, issuePage, jsonBody, authorized } = tracker;

  app.use("*", async (c, next) => {
    if (!authorized(c)) return c.json({ message: "token is required", url: `${base(c)}/api/swagger` }, 401);
    await next();
  });

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

  repoApp.get("/issues", (c) => {
    const type = c.req.query("type");
    const wanted = (c.req.query("labels") ?? "").split(",").filter(Boolean);
    const listed = issuePage(c, (i) => {
      if (type === "issues" && i.isPull) return false;
      if (type === "pulls" && !i.isPull) return false;
      const names = store.labelsOf(c.var.repo.name, i.number);
      // ANY: an issue with at least one of the labels matches.
      return wanted.length === 0 || wanted.some((w) => names.includes(w));
    });
    return c.json(listed.map((i) => issueJson(c, c.var.repo.name, i)));
  });

  repoApp.get("/labels", (c) =>
    c.json(page(c, c.var.repo.labels).map((l) => labelJson(c.var.repo.name, l.id))),
  );

  repoApp.patch("/issues/comments/:id{[0-9]+}", async (c) => {
    const comment = store.commentById(c.var.repo.name, Number(c.req.param("id")));
    if (!comment) return notFound(c);
    const body = await jsonBody(c);
    if (!body || typeof body.body !== "string") return unprocessable(c, "body is required");
    return c.json(commentJson(store.editComment(comment, body.body)));
  });

  repoApp.get("/commits/:ref/status", (c) => {
    const sha = c.req.param("ref");
    const statuses = store.latestStatuses(c.var.repo.name, sha).filter((s) => STATUS_STATES.has(s.state));
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

  issueApp.get("/", (c) => c.json(issueJson(c, c.var.repo.name, c.var.issue)));

  issueApp.patch("/", async (c) => {
    const body = await jsonBody(c);
    if (!body) return unprocessable(c, "invalid JSON body");
    if (body.state !== undefined) {
      if (body.state !== "open" && body.state !== "closed") return unprocessable(c, "invalid state");
      c.var.issue.state = body.state;
    }
    store.touch(c.var.issue);
    return c.json(issueJson(c, c.var.repo.name, c.var.issue), 201);
  });

  issueApp.post("/labels", async (c) => {
    const { repo, issue } = c.var;
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

  issueApp.delete("/labels/:id", (c) => {
    const raw = c.req.param("id");
    // Forgejo parses the id as an integer: a name (or an unknown id) is "label does not exist".
    const id = /^[0-9]+$/.test(raw) ? Number(raw) : 0;
    if (!c.var.repo.labels.some((l) => l.id === id))
      return unprocessable(c, `label does not exist [id: ${raw}]`);
    c.var.issue.labelIds = c.var.issue.labelIds.filter((x) => x !== id);
    store.touch(c.var.issue);
    return c.body(null, 204);
  });

  issueApp.get("/comments", (c) => c.json(c.var.issue.comments.map(commentJson)));

  issueApp.post("/comments", async (c) => {
    const body = await jsonBody(c);
    if (!body || typeof body.body !== "string" || body.body === "")
      return unprocessable(c, "body is required");
    return c.json(commentJson(store.addComment(c.var.repo.name, c.var.issue.number, body.body)), 201);
  });

  return tracker.serve();
}
