import { randomUUID } from "node:crypto";
import { normaliseRoot, type SentTurn } from "@claude-gateway/afk-core";
import { AdapterPreconditionError } from "../errors.js";
import { type ApiOptions, createHttp } from "../http.js";
import {
  Command,
  DispatchReceipt,
  LenientReadModel,
  ProjectRef,
  ThreadDetailReading,
  type ThreadReading,
  ThreadReading as ThreadReadingSchema,
} from "./schemas.js";

export interface T3ClientOptions extends ApiOptions {
  /** Mints command, project, thread and message ids (UUID v4 by default). */
  newId?: () => string;
  now?: () => Date;
}

export interface ModelChoice {
  instanceId: string;
  model: string;
}

export interface StartRunInput {
  /** The checkout the agent runs in, on the T3 server's filesystem. */
  workspaceRoot: string;
  projectTitle: string;
  threadTitle: string;
  prompt: string;
  model: ModelChoice;
}

/** Everything dispatch minted. The server only answers sequence numbers, so these are the truth. */
export interface StartedRun {
  projectId: string;
  projectCreated: boolean;
  threadId: string;
  turn: SentTurn;
  commandIds: string[];
}

/** The poller's port. */
export interface T3Dispatch {
  startRun(input: StartRunInput): Promise<StartedRun>;
}

/** The watcher's port. */
export interface T3Threads {
  /** The thread with its messages and activities when the server has them; null when it is gone. */
  readThread(threadId: string): Promise<ThreadReading | null>;
  /** A follow-up turn on an existing thread (another `thread.turn.start`). */
  sendTurn(threadId: string, text: string): Promise<SentTurn>;
}

export interface T3Client extends T3Dispatch, T3Threads {
  /** The live project whose workspace root is this checkout; created only when there is none. */
  ensureProject(workspaceRoot: string, title: string): Promise<{ projectId: string; created: boolean }>;
  dispatch(command: Command): Promise<DispatchReceipt>;
}

const API = "/api/orchestration";

/** The previous turn's id, even while `latestTurn` is null between a turn's end and its checkpoint. */
export function baselineTurnId(thread: ThreadReading): string | null {
  if (thread.latestTurn) return thread.latestTurn.turnId;
  const withTurn = (thread.messages ?? []).filter((m) => m.turnId !== null);
  withTurn.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return withTurn.at(-1)?.turnId ?? null;
}

/**
 * The T3 Code client, over HTTP: bare commands to `/dispatch`, reads from `/snapshot` and (v0.0.29+)
 * `/threads/:id`. Unattended threads are created `full-access`: anything less blocks on approvals.
 */
export function createT3Client(options: T3ClientOptions): T3Client {
  const newId = options.newId ?? randomUUID;
  const now = options.now ?? (() => new Date());
  const http = createHttp({
    system: "t3",
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers: { authorization: `Bearer ${options.token}` },
    timeoutMs: options.timeoutMs,
  });

  async function dispatch(command: Command): Promise<DispatchReceipt> {
    // Producers parse before sending: a command the server would reject never leaves.
    return http.json("POST", `${API}/dispatch`, DispatchReceipt, { body: Command.parse(command) });
  }

  async function snapshot() {
    return http.json("GET", `${API}/snapshot`, LenientReadModel);
  }

  async function ensureProject(workspaceRoot: string, title: string) {
    const root = normaliseRoot(workspaceRoot);
    const model = await snapshot();
    for (const raw of model.projects) {
      const p = ProjectRef.safeParse(raw);
      if (p.success && p.data.deletedAt === null && normaliseRoot(p.data.workspaceRoot) === root) {
        return { projectId: p.data.id, created: false };
      }
    }
    // The server never dedupes by root and never lets a deleted id be reused: always a fresh id.
    const projectId = newId();
    await dispatch({
      type: "project.create",
      commandId: newId(),
      projectId,
      title,
      workspaceRoot: root,
      createdAt: now().toISOString(),
    });
    return { projectId, created: true };
  }

  async function startTurn(
    threadId: string,
    text: string,
    baseline: string | null,
  ): Promise<SentTurn & { commandId: string }> {
    const messageId = newId();
    const commandId = newId();
    const sentAt = now().toISOString();
    await dispatch({
      type: "thread.turn.start",
      commandId,
      threadId,
      message: { messageId, role: "user", text, attachments: [] },
      runtimeMode: "full-access",
      interactionMode: "default",
      createdAt: sentAt,
    });
    return { messageId, sentAt, baselineTurnId: baseline, commandId };
  }

  async function readThread(threadId: string): Promise<ThreadReading | null> {
    const detail = await http.jsonOrNull(
      "GET",
      `${API}/threads/${encodeURIComponent(threadId)}`,
      ThreadDetailReading,
    );
    if (detail) return detail.thread;
    // Before v0.0.29 there is no thread endpoint (404): the snapshot still carries messages there.
    const model = await snapshot();
    const raw = model.threads.find((t) => (t as { id?: unknown } | null)?.id === threadId);
    if (raw === undefined) return null;
    return ThreadReadingSchema.parse(raw);
  }

  return {
    dispatch,
    ensureProject,
    readThread,
    async startRun(input) {
      const project = await ensureProject(input.workspaceRoot, input.projectTitle);
      const threadId = newId();
      const threadCommand = newId();
      await dispatch({
        type: "thread.create",
        commandId: threadCommand,
        threadId,
        projectId: project.projectId,
        title: input.threadTitle,
        modelSelection: { instanceId: input.model.instanceId, model: input.model.model },
        runtimeMode: "full-access",
        interactionMode: "default",
        branch: null,
        worktreePath: null,
        createdAt: now().toISOString(),
      });
      // Over HTTP a `bootstrap` on the turn is ignored: create the thread, then start the turn.
      const { commandId, ...turn } = await startTurn(threadId, input.prompt, null);
      return {
        projectId: project.projectId,
        projectCreated: project.created,
        threadId,
        turn,
        commandIds: [threadCommand, commandId],
      };
    },
    async sendTurn(threadId, text) {
      const thread = await readThread(threadId);
      if (!thread || thread.deletedAt !== null) {
        throw new AdapterPreconditionError("t3", `thread ${threadId} is gone: cannot send a turn`);
      }
      const { commandId: _, ...turn } = await startTurn(threadId, text, baselineTurnId(thread));
      return turn;
    },
  };
}
