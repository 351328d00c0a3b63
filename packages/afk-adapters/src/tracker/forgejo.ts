import { type Issue, priorityFromLabels } from "@claude-gateway/afk-core";
import { z } from "zod";
import { AdapterPreconditionError } from "../errors.js";
import { createHttp, type Fetch, type Http, repoPath } from "../http.js";
import { ForgejoComment, ForgejoIssue, ForgejoLabel } from "./forgejo-schemas.js";
import type { IssueComment, TrackedIssue, Tracker } from "./port.js";

export interface ForgejoOptions {
  /** The server's base URL (`https://git.example`); the API lives under `/api/v1`. */
  baseUrl: string;
  token: string;
  fetch: Fetch;
  timeoutMs: number;
}

const PAGE = 50;
const MAX_PAGES = 20;

export function forgejoHttp(options: ForgejoOptions): Http {
  return createHttp({
    system: "forgejo",
    baseUrl: `${options.baseUrl}/api/v1`,
    fetch: options.fetch,
    headers: { authorization: `token ${options.token}` },
    timeoutMs: options.timeoutMs,
  });
}

function toIssue(repo: string, raw: ForgejoIssue): TrackedIssue {
  const labels = raw.labels.map((l) => l.name);
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

function toComment(raw: ForgejoComment): IssueComment {
  return { id: raw.id, body: raw.body, author: raw.user?.login ?? null, createdAt: raw.created_at };
}

async function paged<T>(fetchPage: (page: number) => Promise<T[]>, size: number): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = await fetchPage(page);
    all.push(...items);
    if (items.length < size) break;
  }
  return all;
}

/**
 * Forgejo issues. Its `labels=` filter matches ANY of the labels (so the adapter asks for one), its
 * issue list includes pull requests unless `type=issues`, and labels are added and removed by
 * numeric id only (a DELETE by name is rejected).
 */
export function createForgejoTracker(options: ForgejoOptions): Tracker {
  const http = forgejoHttp(options);

  async function getIssue(repo: string, number: number) {
    const raw = await http.jsonOrNull("GET", `${repoPath(repo)}/issues/${number}`, ForgejoIssue);
    return raw ? toIssue(repo, raw) : null;
  }

  async function labelId(repo: string, name: string): Promise<number> {
    const labels = await paged(
      (page) =>
        http.json("GET", `${repoPath(repo)}/labels`, z.array(ForgejoLabel), { query: { page, limit: PAGE } }),
      PAGE,
    );
    const found = labels.find((l) => l.name === name);
    if (!found)
      throw new AdapterPreconditionError("forgejo", `label "${name}" does not exist in ${repo}: create it`);
    return found.id;
  }

  return {
    async listOpenIssues(repo, label): Promise<Issue[]> {
      const raw = await paged(
        (page) =>
          http.json("GET", `${repoPath(repo)}/issues`, z.array(ForgejoIssue), {
            query: { state: "open", type: "issues", labels: label, page, limit: PAGE },
          }),
        PAGE,
      );
      return raw
        .filter((i) => !i.pull_request && i.labels.some((l) => l.name === label))
        .map((i) => {
          const { open: _, ...issue } = toIssue(repo, i);
          return issue;
        });
    },
    getIssue,
    async addLabel(repo, number, label) {
      const id = await labelId(repo, label);
      await http.json("POST", `${repoPath(repo)}/issues/${number}/labels`, z.array(ForgejoLabel), {
        body: { labels: [id] },
      });
    },
    async removeLabel(repo, number, label) {
      const raw = await http.jsonOrNull("GET", `${repoPath(repo)}/issues/${number}`, ForgejoIssue);
      if (!raw) throw new AdapterPreconditionError("forgejo", `${repo}#${number} does not exist`);
      const found = raw.labels.find((l) => l.name === label);
      if (!found) return;
      await http.send("DELETE", `${repoPath(repo)}/issues/${number}/labels/${found.id}`);
    },
    async listComments(repo, number) {
      const raw = await http.json(
        "GET",
        `${repoPath(repo)}/issues/${number}/comments`,
        z.array(ForgejoComment),
      );
      return raw.map(toComment);
    },
    async createComment(repo, number, body) {
      return toComment(
        await http.json("POST", `${repoPath(repo)}/issues/${number}/comments`, ForgejoComment, {
          body: { body },
        }),
      );
    },
    async editComment(repo, commentId, body) {
      await http.json("PATCH", `${repoPath(repo)}/issues/comments/${commentId}`, ForgejoComment, {
        body: { body },
      });
    },
    async closeIssue(repo, number) {
      await http.json("PATCH", `${repoPath(repo)}/issues/${number}`, ForgejoIssue, {
        body: { state: "closed" },
      });
    },
  };
}
