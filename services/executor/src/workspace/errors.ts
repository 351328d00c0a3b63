/** Why a workspace could not be prepared. Stable strings: callers and logs match on them. */
export type WorkspaceErrorReason =
  | "invalid_job_id"
  | "invalid_repo"
  | "repo_not_allowed"
  | "invalid_ref"
  | "job_exists"
  | "clone_failed"
  | "fetch_failed"
  | "ref_not_found"
  | "checkout_failed"
  | "git_crypt_key_missing"
  | "git_crypt_unlock_failed"
  | "lock_timeout"
  | "workspace_full"
  | "aborted";

/** Reasons that may succeed when the same job is tried again later (network, a busy lock). */
const RETRYABLE: ReadonlySet<WorkspaceErrorReason> = new Set([
  "clone_failed",
  "fetch_failed",
  "lock_timeout",
  "workspace_full",
]);

/** Every way preparing a job's checkout can fail; `reason` says which. */
export class WorkspaceError extends Error {
  override readonly name = "WorkspaceError";
  /** The job failure reason in `@claude-gateway/contracts`. */
  readonly code = "workspace_error";
  readonly retryable: boolean;
  /** The last lines of the failing command's stderr, when a command failed. */
  readonly stderrTail: string | undefined;

  constructor(
    readonly reason: WorkspaceErrorReason,
    message: string,
    options?: ErrorOptions & { stderrTail?: string },
  ) {
    super(message, options);
    this.retryable = RETRYABLE.has(reason);
    this.stderrTail = options?.stderrTail;
  }
}
