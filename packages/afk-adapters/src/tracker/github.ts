import type { Issue } from "@claude-gateway/afk-core";
import { z } from "zod";
import { type ApiOptions, createHttp, type Http, repoPath } from "../http.js";
import { GithubComment, GithubIssue, GithubLabel } from "./github-schemas.js";
import type { Tracker } from "./port.js";
import { commentWrites, listedIssue, paged, toComment, trackedIssue } from "./rest-issues.js";

/** `baseUrl`: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
export type GithubOptions = ApiOptions;

const PAGING = { size: 100, maxPages: 10 };

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

/**
 * GitHub issues. Its `labels=` filter matches ALL the labels, and the issues API lists pull requests
 * too (they carry `pull_request`): they are dropped. Labels are removed by name.
 */
export function createGithubTracker(options: GithubOptions): Tracker {
  const http = githubHttp(options);
  return {
    async listOpenIssues(repo, label): Promise<Issue[]> {
      const raw = await paged(PAGING, (page) =>
        http.json("GET", `${repoPath(repo)}/issues`, z.array(GithubIssue), {
          query: { state: "open", labels: label, per_page: PAGING.size, page },
        }),
      );
      return raw.filter((i) => i.pull_request === undefined).map((i) => listedIssue(repo, i));
    },
    async getIssue(repo, number) {
      const raw = await http.jsonOrNull("GET", `${repoPath(repo)}/issues/${number}`, GithubIssue);
      return raw && raw.pull_request === undefined ? trackedIssue(repo, raw) : null;
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
      const raw = await paged(PAGING, (page) =>
        http.json("GET", `${repoPath(repo)}/issues/${number}/comments`, z.array(GithubComment), {
          query: { per_page: PAGING.size, page },
        }),
      );
      return raw.map(toComment);
    },
    ...commentWrites(http, GithubComment),
    async closeIssue(repo, number) {
      await http.json("PATCH", `${repoPath(repo)}/issues/${number}`, GithubIssue, {
        body: { state: "closed", state_reason: "completed" },
      });
    },
  };
}
