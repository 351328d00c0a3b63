import type { Check } from "@claude-gateway/afk-core";
import { repoPath } from "../http.js";
import { type GithubOptions, githubHttp } from "../tracker/github.js";
import {
  type GithubCheckRun,
  GithubCheckRuns,
  GithubCombinedStatus,
  type GithubStatus,
} from "../tracker/github-schemas.js";
import type { CommitChecks } from "./port.js";

const STATUS: Record<GithubStatus["state"], Check["state"]> = {
  pending: "pending",
  success: "success",
  error: "failure",
  failure: "failure",
};

/** `action_required` waits for a person: pending (the stall limit escalates it), not a failure to fix. */
function checkRunState(run: GithubCheckRun): Check["state"] {
  if (run.status !== "completed") return "pending";
  switch (run.conclusion) {
    case "success":
    case "neutral":
    case "skipped":
      return "success";
    case "action_required":
    case null:
      return "pending";
    default:
      return "failure";
  }
}

/**
 * GitHub Actions posts check runs, not commit statuses; other CI systems post statuses. Both are
 * read. The combined status says `pending` when there are no statuses at all, so only its list is used.
 */
export function createGithubChecks(options: GithubOptions): CommitChecks {
  const http = githubHttp(options);
  return {
    async checksFor(repo, sha) {
      const ref = encodeURIComponent(sha);
      const [combined, runs] = await Promise.all([
        http.json("GET", `${repoPath(repo)}/commits/${ref}/status`, GithubCombinedStatus, {
          query: { per_page: 100 },
        }),
        http.json("GET", `${repoPath(repo)}/commits/${ref}/check-runs`, GithubCheckRuns, {
          query: { per_page: 100, filter: "latest" },
        }),
      ]);
      const statuses: Check[] = combined.statuses.map((s) => ({
        name: s.context,
        state: STATUS[s.state],
        url: s.target_url,
        description: s.description,
      }));
      const checks: Check[] = runs.check_runs.map((r) => ({
        name: r.name,
        state: checkRunState(r),
        url: r.html_url,
        description: r.output?.title ?? r.output?.summary ?? null,
      }));
      return [...statuses, ...checks];
    },
  };
}
