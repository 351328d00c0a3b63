import type { Check } from "@claude-gateway/afk-core";
import { repoPath } from "../http.js";
import { type ForgejoOptions, forgejoHttp } from "../tracker/forgejo.js";
import { ForgejoCombinedStatus, type ForgejoStatus } from "../tracker/forgejo-schemas.js";
import type { CommitChecks } from "./port.js";

const STATE: Record<ForgejoStatus["state"], Check["state"]> = {
  pending: "pending",
  success: "success",
  warning: "success",
  error: "failure",
  failure: "failure",
};

/** Forgejo Actions (and other CI) post commit statuses: the combined status has the latest per context. */
export function createForgejoChecks(options: ForgejoOptions): CommitChecks {
  const http = forgejoHttp(options);
  return {
    async checksFor(repo, sha) {
      const combined = await http.json(
        "GET",
        `${repoPath(repo)}/commits/${encodeURIComponent(sha)}/status`,
        ForgejoCombinedStatus,
      );
      return (combined.statuses ?? []).map((s) => ({
        name: s.context,
        state: STATE[s.state],
        url: s.target_url || null,
        description: s.description || null,
      }));
    },
  };
}
