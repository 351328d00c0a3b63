import { randomUUID } from "node:crypto";
import { dispatchId, normaliseRoot, type SentTurn } from "@claude-gateway/afk-core";
import {
  AdapterPreconditionError,
  T3ThreadUnreadableError,
  UpstreamHttpError,
  UpstreamNotJsonError,
  UpstreamUnreachableError,
} from "../errors.js";
import { type ApiOptions, createHttp, parseContract } from "../http.js";
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
  /**
   * The dispatch's key (`dispatchKey(issue, attempt)`): every id and `commandId` is derived from it,
   * so a retried dispatch resends the same commands and T3 starts no second thread. Without one,
   * ids are minted fresh.
   */
  dispatchKey?: string;
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

/** Whether the agent of a thread is stopped, as the read model shows it after the stop commands. */
export interface StopResult {
  stopped: boolean;
  /** What the thread showed (session status, active turn), or why it could not be told. */
  detail: string;
}

/** The watcher's port. */
export interface T3Threads {
  /** The thread with its messages and activities when the server has them; null when it is gone. */
  readThread(threadId: string): Promise<ThreadReading | null>;
  /** A follow-up turn on an existing thread (another `thread.turn.start`). */
  sendTurn(threadId: string, text: string): Promise<SentTurn>;
  /**
   * Stops the thread's agent: interrupts its turn and stops its session (`thread.turn.interrupt`,
   * `thread.session.stop`), then reads the thread back to verify. Never throws: a failure is a
   * result that says why.
   */
  stopRun(threadId: string): Promise<StopResult>;
}

export interface T3Client extends T3Dispatch, T3Threads {
  /** The live project whose workspace root is this checkout; created only when there is none. */
  ensureProject(
    workspaceRoot: string,
    title: string,
    ids?: { projectId: string; commandId: string },
  ): Promise<{ projectId: string; created: boolean }>;
  dispatch(command: Command): Promise<DispatchReceipt>;
}

const API = "/api/orchestration";
/** How often one command is resent after its answer was lost, within one call. */
const LOST_ANSWER_RETRIES = 2;

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
    const body = Command.parse(command);
    // A lost answer (the connection died after T3 may have recorded the command) is retried with
    // the very same command: T3 answers a known commandId with the sequence it recorded.
    for (let attempt = 1; ; attempt++) {
      try {
        return await http.json("POST", `${API}/dispatch`, DispatchReceipt, { body });
      } catch (err) {
        if (!(err instanceof UpstreamUnreachableError) || attempt > LOST_ANSWER_RETRIES) throw err;
      }
    }
  }

  async function snapshot() {
    return http.json("GET", `${API}/snapshot`, LenientReadModel);
  }

  async function ensureProject(
    workspaceRoot: string,
    title: string,
    ids?: { projectId: string; commandId: string },
  ) {
    const root = normaliseRoot(workspaceRoot);
    const model = await snapshot();
    for (const raw of model.projects) {
      const p = ProjectRef.safeParse(raw);
      if (p.success && p.data.deletedAt === null && normaliseRoot(p.data.workspaceRoot) === root) {
        return { projectId: p.data.id, created: false };
      }
    }
    // The server never dedupes by root and never lets a deleted id be reused: always a fresh id.
    const projectId = ids?.projectId ?? newId();
    await dispatch({
      type: "project.create",
      commandId: ids?.commandId ?? newId(),
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
    ids: { messageId: string; commandId: string } = { messageId: newId(), commandId: newId() },
  ): Promise<SentTurn & { commandId: string }> {
    const { messageId, commandId } = ids;
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
    const path = `${API}/threads/${encodeURIComponent(threadId)}`;
    try {
      return (await http.json("GET", path, ThreadDetailReading)).thread;
    } catch (err) {
      // No JSON answer: no endpoint before v0.0.29 (a 404, or the web app's page for any path), a
      // proxy's redirect or 503. A JSON body the contract rejects, or no answer at all, is final.
      if (!(err instanceof UpstreamHttpError || err instanceof UpstreamNotJsonError)) throw err;
      return threadFromSnapshot(threadId, path, err);
    }
  }

  /**
   * Our thread from the snapshot, which carries its messages up to v0.0.31; null when it is not
   * there. A live thread without them cannot be judged: off-contract, not an empty thread.
   */
  async function threadFromSnapshot(
    threadId: string,
    path: string,
    miss: UpstreamHttpError | UpstreamNotJsonError,
  ): Promise<ThreadReading | null> {
    const model = await snapshot();
    const at = model.threads.findIndex((t) => (t as { id?: unknown } | null)?.id === threadId);
    if (at < 0) return null;
    const where = { system: "t3" as const, method: "GET", path: `${API}/snapshot` };
    const thread = parseContract(where, ThreadReadingSchema, model.threads[at], ["threads", at]);
    if (thread.messages === undefined && thread.deletedAt === null) {
      const why =
        miss instanceof UpstreamHttpError
          ? `status ${miss.status}: ${miss.body.replace(/\s+/g, " ").trim().slice(0, 80)}`
          : (miss.issues[0] ?? miss.message);
      throw new T3ThreadUnreadableError(path, why, miss);
    }
    return thread;
  }

  return {
    dispatch,
    ensureProject,
    readThread,
    async startRun(input) {
      const key = input.dispatchKey;
      const idFor = (part: string) => (key === undefined ? newId() : dispatchId(key, part));
      const project = await ensureProject(input.workspaceRoot, input.projectTitle, {
        projectId: idFor("project"),
        commandId: idFor("project.create"),
      });
      const threadId = idFor("thread");
      const threadCommand = idFor("thread.create");
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
      const { commandId, ...turn } = await startTurn(threadId, input.prompt, null, {
        messageId: idFor("message"),
        commandId: idFor("thread.turn.start"),
      });
      return {
        projectId: project.projectId,
        projectCreated: project.created,
        threadId,
        turn,
        commandIds: [threadCommand, commandId],
      };
    },
    async stopRun(threadId) {
      const at = () => now().toISOString();
      try {
        await dispatch({ type: "thread.turn.interrupt", commandId: newId(), threadId, createdAt: at() });
        await dispatch({ type: "thread.session.stop", commandId: newId(), threadId, createdAt: at() });
      } catch (err) {
        return { stopped: false, detail: `the stop commands failed: ${(err as Error).message}` };
      }
      try {
        const thread = await readThread(threadId);
        if (!thread || thread.deletedAt !== null) return { stopped: true, detail: "the thread is gone" };
        const session = thread.session;
        if (session === null) return { stopped: true, detail: "the thread has no session" };
        const still = session.activeTurnId !== null || ["starting", "running"].includes(session.status);
        const detail = `session ${session.status}${session.activeTurnId ? `, turn ${session.activeTurnId} active` : ""}`;
        return { stopped: !still, detail };
      } catch (err) {
        return {
          stopped: false,
          detail: `stop sent, but the thread could not be read back: ${(err as Error).message}`,
        };
      }
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
