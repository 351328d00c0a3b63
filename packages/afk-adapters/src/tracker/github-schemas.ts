import { z } from "zod";

/** The parts of GitHub's REST bodies the adapter reads. */
export const GithubLabel = z.object({ id: z.number().int(), name: z.string(), color: z.string().optional() });

export const GithubIssue = z.object({
  id: z.number().int(),
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable(),
  state: z.enum(["open", "closed"]),
  labels: z.array(z.union([GithubLabel, z.string()])),
  html_url: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  /** Present only on pull requests: the issues API lists them too. */
  pull_request: z.object({}).loose().optional(),
});
export type GithubIssue = z.infer<typeof GithubIssue>;

export const GithubComment = z.object({
  id: z.number().int(),
  body: z.string(),
  user: z.object({ login: z.string() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type GithubComment = z.infer<typeof GithubComment>;

export const GithubStatus = z.object({
  id: z.number().int(),
  context: z.string(),
  state: z.enum(["error", "failure", "pending", "success"]),
  target_url: z.string().nullable(),
  description: z.string().nullable(),
});
export type GithubStatus = z.infer<typeof GithubStatus>;

/** Beware: `state` is `pending` when there are no statuses at all; read `statuses`. */
export const GithubCombinedStatus = z.object({
  state: z.enum(["error", "failure", "pending", "success"]),
  sha: z.string(),
  total_count: z.number().int(),
  statuses: z.array(GithubStatus),
});
export type GithubCombinedStatus = z.infer<typeof GithubCombinedStatus>;

export const GithubCheckRun = z.object({
  id: z.number().int(),
  name: z.string(),
  status: z.enum(["queued", "in_progress", "completed", "waiting", "requested", "pending"]),
  conclusion: z
    .enum([
      "success",
      "failure",
      "neutral",
      "cancelled",
      "skipped",
      "timed_out",
      "action_required",
      "stale",
      "startup_failure",
    ])
    .nullable(),
  html_url: z.string().nullable(),
  output: z.object({ title: z.string().nullable(), summary: z.string().nullable() }).partial().optional(),
});
export type GithubCheckRun = z.infer<typeof GithubCheckRun>;

export const GithubCheckRuns = z.object({
  total_count: z.number().int(),
  check_runs: z.array(GithubCheckRun),
});
export type GithubCheckRuns = z.infer<typeof GithubCheckRuns>;
