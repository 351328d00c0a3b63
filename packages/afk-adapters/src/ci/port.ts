import type { Check } from "@claude-gateway/afk-core";

/** The CI watcher's port: every CI signal on one commit, normalised. */
export interface CommitChecks {
  checksFor(repo: string, sha: string): Promise<Check[]>;
}
