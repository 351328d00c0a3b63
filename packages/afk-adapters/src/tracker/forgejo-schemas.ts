import { z } from "zod";

/** The parts of Forgejo's API v1 (Gitea-compatible) bodies the adapter reads. */
export const ForgejoLabel = z.object({
  id: z.number().int(),
  name: z.string(),
  color: z.string().optional(),
});
export type ForgejoLabel = z.infer<typeof ForgejoLabel>;

export const ForgejoIssue = z.object({
  id: z.number().int(),
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable(),
  state: z.enum(["open", "closed"]),
  labels: z.array(ForgejoLabel),
  html_url: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  /** Non-null on pull requests (the issue list returns them unless `type=issues`). */
  pull_request: z.object({}).loose().nullable().optional(),
});
export type ForgejoIssue = z.infer<typeof ForgejoIssue>;

export const ForgejoComment = z.object({
  id: z.number().int(),
  body: z.string(),
  user: z.object({ login: z.string() }).nullable().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ForgejoComment = z.infer<typeof ForgejoComment>;

/** Forgejo Actions posts commit statuses; `warning` does not block. */
export const ForgejoStatusState = z.enum(["pending", "success", "error", "failure", "warning"]);
export const ForgejoStatus = z.object({
  id: z.number().int(),
  context: z.string(),
  state: ForgejoStatusState,
  target_url: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  created_at: z.string().optional(),
});
export type ForgejoStatus = z.infer<typeof ForgejoStatus>;

/** `GET /repos/{o}/{r}/commits/{ref}/status`: the latest status per context. */
export const ForgejoCombinedStatus = z.object({
  state: z.string(),
  sha: z.string(),
  total_count: z.number().int(),
  statuses: z.array(ForgejoStatus).nullable(),
});
export type ForgejoCombinedStatus = z.infer<typeof ForgejoCombinedStatus>;
