import type { Issue } from "@claude-gateway/afk-core";
import { z } from "zod";
import { AdapterPreconditionError } from "../errors.js";
import { type ApiOptions, createHttp, type Http, repoPath } from "../http.js";
import { ForgejoComment, ForgejoIssue, ForgejoLabel } from "./forgejo-schemas.js";
import type { Tracker } from "./port.js";
import { commentWrites, listedIssue, paged, toComment, trackedIssue } from "./rest-issues.js";

/** `baseUrl` is the server's (`https://git.example`); the API lives under `/api/v1`. */
export type ForgejoOptions = ApiOptions;

const PAGING = { size: 50, maxPages: 20 };

export function forgejoHttp(options: ForgejoOptions): Http {
  return createHttp({
    system: "forgejo",
    baseUrl: `${options.baseUrl}/api/v1`,
    fetch: options.fetch,
    headers: { authorization: `token ${options.token}` },
    timeoutMs: options.timeoutMs,
  });
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
    return raw ? trackedIssue(repo, raw) : null;
  }

  async function labelId(repo: string, name: string): Promise<number> {
    const labels = await paged(PAGING, (page) =>
      http.json("GET", `${repoPath(repo)}/labels`, z.array(ForgejoLabel), {
        query: { page, limit: PAGING.size },
      }),
    );
    const found = labels.find((l) => l.name === name);
    if (!found)
      throw new AdapterPreconditionError("forgejo", `label "${name}" does not exist in ${repo}: create it`);
    return found.id;
  }

  return {
    async listOpenIssues(repo, label): Promise<Issue[]> {
      const raw = await paged(PAGING, (page) =>
        http.json("GET", `${repoPath(repo)}/issues`, z.array(ForgejoIssue), {
          query: { state: "open", type: "issues", labels: label, page, limit: PAGING.size },
        }),
      );
      return raw
        .filter((i) => !i.pull_request && i.labels.some((l) => l.name === label))
        .map((i) => listedIssue(repo, i));
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
    ...commentWrites(http, ForgejoComment),
    async closeIssue(repo, number) {
      await http.json("PATCH", `${repoPath(repo)}/issues/${number}`, ForgejoIssue, {
        body: { state: "closed" },
      });
    },
  };
}
