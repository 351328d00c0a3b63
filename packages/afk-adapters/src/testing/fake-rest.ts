/** What the fake Forgejo and GitHub serve alike (Forgejo's API v1 follows GitHub's REST). */

import { type Context, Hono } from "hono";
import { listen, type SeenRequest } from "./serve.js";
import { type FakeComment, type FakeIssue, type FakeRepo, TrackerStore } from "./tracker-store.js";

/** A running fake tracker server. */
export interface FakeTracker {
  url: string;
  token: string;
  store: TrackerStore;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export interface FakeTrackerOptions {
  token?: string;
  store?: TrackerStore;
  now?: () => Date;
}

export type RepoEnv = { Variables: { repo: FakeRepo } };
export type IssueEnv = { Variables: { repo: FakeRepo; issue: FakeIssue } };

/** How a server pages a list: the query parameter for the page size, its default and its cap. */
export interface PageSize {
  param: string;
  default: number;
  max: number;
}

/**
 * The skeleton of a fake tracker: its token; its store (a new one unless given); an app that logs
 * every request before anything can refuse it; sub-apps for `/repos/:owner/:repo` and, below it,
 * `/issues/:number`, which answer `notFound` unless the repository (and issue) exist and hand them
 * to their routes as `c.var.repo` and `c.var.issue`; paging and JSON bodies as the server reads
 * them; and `serve`, which mounts the sub-apps on the app and listens.
 */
export function fakeTracker(
  options: FakeTrackerOptions,
  server: {
    token: string;
    basePath?: string;
    notFound: (c: Context) => Response;
    pageSize: PageSize;
    /** The server reads a body as JSON only when its content type says it is (Forgejo). */
    jsonNeedsContentType?: boolean;
  },
) {
  const token = options.token ?? server.token;
  const store = options.store ?? new TrackerStore(options.now);
  const requests: SeenRequest[] = [];
  const app = new Hono().basePath(server.basePath ?? "/");
  app.use("*", async (c, next) => {
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname });
    await next();
  });

  const repoApp = new Hono<RepoEnv>();
  repoApp.use("*", async (c, next) => {
    const repo = store.repos.get(`${c.req.param("owner")}/${c.req.param("repo")}`);
    if (!repo) return server.notFound(c);
    c.set("repo", repo);
    await next();
  });
  const issueApp = new Hono<IssueEnv>();
  issueApp.use("*", async (c, next) => {
    const issue = store.issue(c.var.repo.name, Number(c.req.param("number")));
    if (!issue) return server.notFound(c);
    c.set("issue", issue);
    await next();
  });

  /** The slice `?page=` (from 1) asks for. */
  function page<T>(c: Context, items: T[]): T[] {
    const { param, default: size, max } = server.pageSize;
    const perPage = Math.min(Number(c.req.query(param) ?? size), max);
    const p = Number(c.req.query("page") ?? 1);
    return items.slice((p - 1) * perPage, p * perPage);
  }

  return {
    app,
    store,
    repoApp,
    issueApp,
    page,
    /** The repository's issues in `?state=` (default open) that `keep` keeps: newest first, one page. */
    issuePage(c: Context<RepoEnv>, keep: (issue: FakeIssue) => boolean): FakeIssue[] {
      const state = c.req.query("state") ?? "open";
      const matching = c.var.repo.issues.filter((i) => (state === "all" || i.state === state) && keep(i));
      matching.sort((a, b) => b.number - a.number);
      return page(c, matching);
    },
    /** The body when it is a JSON object; null for anything else (not JSON, an array, a string…). */
    async jsonBody(c: Context): Promise<Record<string, unknown> | null> {
      if (server.jsonNeedsContentType && !(c.req.header("content-type") ?? "").includes("application/json"))
        return null;
      try {
        const body = await c.req.json();
        return typeof body === "object" && body !== null && !Array.isArray(body) ? body : null;
      } catch {
        return null;
      }
    },
    /** `Authorization: token …` or `Authorization: Bearer …` with the token: both servers take either. */
    authorized(c: Context): boolean {
      return /^(?:token|Bearer) (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] === token;
    },
    /** Call once every route is added: `route` copies the routes a sub-app has then. */
    async serve(): Promise<FakeTracker> {
      repoApp.route("/issues/:number{[0-9]+}", issueApp);
      app.route("/repos/:owner/:repo", repoApp);
      app.notFound(server.notFound);
      const listening = await listen(app);
      return { url: listening.url, token, store, requests, close: () => listening.close() };
    },
  };
}

export function commentJson(comment: FakeComment) {
  return {
    id: comment.id,
    body: comment.body,
    user: { login: comment.user },
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  };
}
