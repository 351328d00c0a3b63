import { z } from "zod";

/**
 * The T3 Code orchestration wire contract, written from /work/shared/t3-contract.md (taken from T3
 * Code v0.0.27's `packages/contracts/src/orchestration.ts`; unchanged for these commands up to at
 * least v0.0.38). Upstream's types are private, so this file is our copy. The client parses what it
 * sends with these schemas, and the fake server validates every command with the very same ones.
 */

/** Ids are any non-empty string; the UI mints UUID v4 without a prefix. */
export const Id = z.string().min(1);
export const IsoDateTime = z.iso.datetime({ offset: true });

/** v0.0.27's runtime modes (`auto` only exists from v0.0.29, and v0.0.27 rejects it). */
export const RuntimeMode = z.enum(["approval-required", "auto-accept-edits", "full-access"]);
export const InteractionMode = z.enum(["default", "plan"]);

/** `{instanceId, model, options?}`; the older `{provider, model}` form is still accepted. */
export const ModelSelection = z.union([
  z.object({ instanceId: Id, model: Id, options: z.record(z.string(), z.unknown()).optional() }),
  z.object({ provider: Id, model: Id }),
]);
export type ModelSelection = z.infer<typeof ModelSelection>;

export const ProjectCreate = z.object({
  type: z.literal("project.create"),
  commandId: Id,
  projectId: Id,
  title: z.string().min(1),
  workspaceRoot: z.string().min(1),
  createWorkspaceRootIfMissing: z.boolean().optional(),
  defaultModelSelection: ModelSelection.nullable().optional(),
  createdAt: IsoDateTime,
});

/** `branch` and `worktreePath` keys are required; `null` means the project's own checkout. */
export const ThreadCreate = z.object({
  type: z.literal("thread.create"),
  commandId: Id,
  threadId: Id,
  projectId: Id,
  title: z.string().min(1),
  modelSelection: ModelSelection,
  runtimeMode: RuntimeMode,
  interactionMode: InteractionMode.optional(),
  branch: z.string().nullable(),
  worktreePath: z.string().nullable(),
  createdAt: IsoDateTime,
});

export const UserMessage = z.object({
  messageId: Id,
  role: z.literal("user"),
  text: z.string().min(1),
  attachments: z.array(z.unknown()),
});

/** Also the follow-up turn: another `thread.turn.start` on the same thread with new ids. */
export const ThreadTurnStart = z.object({
  type: z.literal("thread.turn.start"),
  commandId: Id,
  threadId: Id,
  message: UserMessage,
  runtimeMode: RuntimeMode,
  interactionMode: InteractionMode,
  createdAt: IsoDateTime,
});

export const ThreadTurnInterrupt = z.object({
  type: z.literal("thread.turn.interrupt"),
  commandId: Id,
  threadId: Id,
  turnId: Id.optional(),
  createdAt: IsoDateTime,
});

export const ThreadSessionStop = z.object({
  type: z.literal("thread.session.stop"),
  commandId: Id,
  threadId: Id,
  createdAt: IsoDateTime,
});

export const ThreadDelete = z.object({ type: z.literal("thread.delete"), commandId: Id, threadId: Id });
export const ThreadArchive = z.object({ type: z.literal("thread.archive"), commandId: Id, threadId: Id });

/** The bare command `POST /api/orchestration/dispatch` takes, discriminated by `type`. */
export const Command = z.discriminatedUnion("type", [
  ProjectCreate,
  ThreadCreate,
  ThreadTurnStart,
  ThreadTurnInterrupt,
  ThreadSessionStop,
  ThreadDelete,
  ThreadArchive,
]);
export type Command = z.infer<typeof Command>;

/** `{sequence}` only means "recorded", not "started". */
export const DispatchReceipt = z.object({ sequence: z.number().int().nonnegative() });
export type DispatchReceipt = z.infer<typeof DispatchReceipt>;

export const T3ErrorCode = z.enum([
  "invalid_request",
  "invalid_command",
  "auth_invalid",
  "insufficient_scope",
  "orchestration_dispatch_failed",
  "not_found",
]);
export const T3ErrorBody = z.object({ _tag: z.string(), code: z.string(), reason: z.string() });
export type T3ErrorBody = z.infer<typeof T3ErrorBody>;

// ---- read model (GET /api/orchestration/snapshot, GET /api/orchestration/threads/:id) ----

export const Project = z.object({
  id: Id,
  title: z.string(),
  workspaceRoot: z.string(),
  defaultModelSelection: ModelSelection.nullable(),
  scripts: z.array(z.unknown()),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  deletedAt: IsoDateTime.nullable(),
});
export type Project = z.infer<typeof Project>;

export const Message = z.object({
  id: Id,
  role: z.enum(["user", "assistant", "system"]),
  text: z.string(),
  turnId: Id.nullable(),
  streaming: z.boolean(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Message = z.infer<typeof Message>;

/** `state` is exactly one of these four: there is no `pending`, `in_progress` or `errored`. */
export const TurnState = z.enum(["running", "interrupted", "completed", "error"]);

export const LatestTurn = z.object({
  turnId: Id,
  state: TurnState,
  requestedAt: IsoDateTime,
  startedAt: IsoDateTime.nullable(),
  completedAt: IsoDateTime.nullable(),
  assistantMessageId: Id.nullable(),
});
export type LatestTurn = z.infer<typeof LatestTurn>;

export const SessionStatus = z.enum([
  "idle",
  "starting",
  "running",
  "ready",
  "interrupted",
  "stopped",
  "error",
]);

export const Session = z.object({
  threadId: Id,
  status: SessionStatus,
  providerName: z.string().nullable(),
  runtimeMode: z.string(),
  activeTurnId: Id.nullable(),
  lastError: z.string().nullable(),
  updatedAt: IsoDateTime,
});
export type Session = z.infer<typeof Session>;

/**
 * The contract names only an activity's `tone` and `kind` (and places it "after your message", so
 * `createdAt`): everything else is optional, read when present. `tone` grows across versions
 * (`thinking` appears later): kept a string.
 */
export const Activity = z.object({
  id: Id.optional(),
  tone: z.string(),
  kind: z.string().min(1),
  summary: z.string().optional(),
  payload: z.unknown().optional(),
  turnId: Id.nullable().optional(),
  sequence: z.number().int().nonnegative().optional(),
  createdAt: IsoDateTime,
});
export type Activity = z.infer<typeof Activity>;

/** Messages and activities are omitted from snapshots from v0.0.32 on. */
export const Thread = z.object({
  id: Id,
  projectId: Id,
  title: z.string(),
  modelSelection: ModelSelection,
  runtimeMode: z.string(),
  interactionMode: z.string(),
  branch: z.string().nullable(),
  worktreePath: z.string().nullable(),
  latestTurn: LatestTurn.nullable(),
  session: Session.nullable(),
  messages: z.array(Message).optional(),
  activities: z.array(Activity).optional(),
  checkpoints: z.array(z.unknown()),
  proposedPlans: z.array(z.unknown()),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  archivedAt: IsoDateTime.nullable(),
  deletedAt: IsoDateTime.nullable(),
});
export type Thread = z.infer<typeof Thread>;

/** Deleted projects and deleted/archived threads are included: filter on `deletedAt === null`. */
export const ReadModel = z.object({
  snapshotSequence: z.number().int().nonnegative(),
  projects: z.array(Project),
  threads: z.array(Thread),
  updatedAt: IsoDateTime,
});
export type ReadModel = z.infer<typeof ReadModel>;

/** `GET /api/orchestration/threads/:id` (v0.0.29+); the contract names only the thread in it. */
export const ThreadDetail = z.object({
  snapshotSequence: z.number().int().nonnegative().optional(),
  thread: Thread,
});
export type ThreadDetail = z.infer<typeof ThreadDetail>;

/**
 * What the client needs from a snapshot, read leniently: other people's threads and projects may
 * carry values from newer versions (an `auto` runtime mode, a new model selection form) and must not
 * fail the read. Our own thread is parsed strictly with `ThreadReading`.
 */
export const ProjectRef = Project.pick({ id: true, title: true, workspaceRoot: true, deletedAt: true });
export const LenientReadModel = z.object({
  snapshotSequence: z.number().int().nonnegative(),
  projects: z.array(z.unknown()),
  threads: z.array(z.unknown()),
});

/** The parts of a thread the liveness rules read. */
export const ThreadReading = Thread.pick({
  id: true,
  projectId: true,
  latestTurn: true,
  session: true,
  messages: true,
  activities: true,
  archivedAt: true,
  deletedAt: true,
});
export type ThreadReading = z.infer<typeof ThreadReading>;
export const ThreadDetailReading = z.object({ thread: ThreadReading });
