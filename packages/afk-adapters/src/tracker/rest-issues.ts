import { type Issue, priorityFromLabels } from "@claude-gateway/afk-core";
import type { z } from "zod";
import { type Http, repoPath } from "../http.js";
import type { IssueComment, IssueComments, TrackedIssue } from "./port.js";

/** The issue fields Forgejo and GitHub spell alike (Forgejo's API v1 follows GitHub's REST). */
interface RestIssue {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  /** Label objects; GitHub may also list bare names. */
  labels: ReadonlyArray<{ name: string } | string>;
  html_url: string;
  created_at: string;
}

/** The comment fields both spell alike. */
interface RestComment {
  id: number;
  body: string;
  user?: { login: string } | null;
  created_at: string;
}

export function trackedIssue(repo: string, raw: RestIssue): TrackedIssue {
  const labels = raw.labels.map((l) => (typeof l === "string" ? l : l.name));
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

/** An issue as a list of open issues has it (so without `open`). */
export function listedIssue(repo: string, raw: RestIssue): Issue {
  const { open: _, ...issue } = trackedIssue(repo, raw);
  return issue;
}

export function toComment(raw: RestComment): IssueComment {
  return { id: raw.id, body: raw.body, author: raw.user?.login ?? null, createdAt: raw.created_at };
}

export interface Paging {
  /** Items per page, as the query asks for them. */
  size: number;
  maxPages: number;
}

/** Pages 1, 2, … until a page shorter than `size`, at most `maxPages` of them. */
export async function paged<T>(paging: Paging, fetchPage: (page: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= paging.maxPages; page++) {
    const items = await fetchPage(page);
    all.push(...items);
    if (items.length < paging.size) break;
  }
  return all;
}

/** Creating and editing a comment: the same calls on both servers, each with its comment schema. */
export function commentWrites(
  http: Http,
  schema: z.ZodType<RestComment>,
): Pick<IssueComments, "createComment" | "editComment"> {
  return {
    async createComment(repo, number, body) {
      return toComment(
        await http.json("POST", `${repoPath(repo)}/issues/${number}/comments`, schema, { body: { body } }),
      );
    },
    async editComment(repo, commentId, body) {
      await http.json("PATCH", `${repoPath(repo)}/issues/comments/${commentId}`, schema, { body: { body } });
    },
  };
}
