import { type Issue, priorityFromLabels } from "@claude-gateway/afk-core";
import { z } from "zod";
import { createHttp, type Fetch, type Http, repoPath } from "../http.js";
import { GithubComment, GithubIssue, GithubLabel } from "./github-schemas.js";
import type { IssueComment, TrackedIssue, Tracker } from "./port.js";

export interface GithubOptions {
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  baseUrl: string;
  token: string;
  fetch: Fetch;
  timeoutMs: number;
}

const PAGE = 100;
const MAX_PAGES = 10;

export function githubHttp(options: GithubOptions): Http {
  return createHttp({
    system: "github",
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers: {
      authorization: `Bearer ${options.token}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      // GitHub refuses requests without a User-Agent.
      "user-agent": "claude-gateway-afk",
    },
    timeoutMs: options.timeoutMs,
  });
}

function labelNames(raw: GithubIssue): string[] {
  return raw.labels.map((l) => (typeof l === "string" ? l : l.name));
}

function toIssue(repo: string, raw: GithubIssue): TrackedIssue {
  const labels = labelNames(raw);
  return {
    repo,
    number: raw.number,
    title: raw.title,
    body: raw.body ?? "",
    labels,
    priority: priorityFromLabels(labels),
    createdAt: raw.created_at,
    url: raw.html_url,
    open: raw.state === "open",
  };
}

function toComment(raw: GithubComment): IssueComment {
  return { id: raw.id, body: raw.body, author: raw.user?.login ?? null, createdAt: raw.created_at };
}

async function paged<T>(fetchPage: (page: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = await fetchPage(page);
    all.push(...items);
    if (items.length < PAGE) break;
  }
  return all;
}

/**
 * GitHub issues. Its `labels=` filter matches ALL the labels, and the issues API lists pull requests
 * too (they carry `pull_request`): they are dropped. Labels are removed by name.
 */
export function createGithubTracker(options: GithubOptions): Tracker {
  const http = githubHttp(options);
  return {
    async listOpenIssues(repo, label): Promise<Issue[]> {
      const raw = await paged((page) =>
        http.json("GET", `${repoPath(repo)}/issues`, z.array(GithubIssue), {
          query: { state: "open", labels: label, per_page: PAGE, page },
        }),
      );
      return raw
        .filter((i) => i.pull_request === undefined)
        .map((i) => {
          const { open: _, ...issue } = toIssue(repo, i);
          return issue;
        });
    },
    async getIssue(repo, number) {
      const raw = await http.jsonOrNull("GET", `${repoPath(repo)}/issues/${number}`, GithubIssue);
      return raw && raw.pull_request === undefined ? toIssue(repo, raw) : null;
    },
    async addLabel(repo, number, label) {
      await http.json("POST", `${repoPath(repo)}/issues/${number}/labels`, z.array(GithubLabel), {
        body: { labels: [label] },
      });
    },
    async removeLabel(repo, number, label) {
      // 404: the issue does not carry the label, which is what was wanted.
      await http.send("DELETE", `${repoPath(repo)}/issues/${number}/labels/${encodeURIComponent(label)}`, {
        okStatuses: [404],
      });
    },
    async listComments(repo, number) {
      const raw = await paged((page) =>
        http.json("GET", `${repoPath(repo)}/issues/${number}/comments`, z.array(GithubComment), {
          query: { per_page: PAGE, page },
        }),
      );
      return raw.map(toComment);
    },
    async createComment(repo, number, body) {
      return toComment(
        await http.json("POST", `${repoPath(repo)}/issues/${number}/comments`, GithubComment, {
          body: { body },
        }),
      );
    },
    async editComment(repo, commentId, body) {
      await http.json("PATCH", `${repoPath(repo)}/issues/comments/${commentId}`, GithubComment, {
        body: { body },
      });
    },
    async closeIssue(repo, number) {
      await http.json("PATCH", `${repoPath(repo)}/issues/${number}`, GithubIssue, {
        body: { state: "closed", state_reason: "completed" },
      });
    },
  };
}
