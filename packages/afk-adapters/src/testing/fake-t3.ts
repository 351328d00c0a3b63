import { Hono } from "hono";
import {
  type Activity,
  Command,
  type LatestTurn,
  type Message,
  type Project,
  type ReadModel,
  type T3ErrorBody,
  type Thread,
} from "../t3/schemas.js";
import { type AgentScript, agentScript, type ThreadState } from "./fake-t3-agent.js";
import { type Listening, listen, type SeenRequest } from "./serve.js";

export type { AgentScript } from "./fake-t3-agent.js";

export type FakeT3Version = "v0.0.27" | "v0.0.32";

/**
 * How `GET /api/orchestration/threads/:id` answers: `json` (v0.0.29+), `missing` (a 404: no such
 * route before v0.0.29), or what may stand in front of a server: `html-catch-all` (a web app's page,
 * 200, for any path), `redirect` (302 to an HTML login page), `unavailable` (503).
 */
export type FakeT3ThreadEndpoint = "json" | "missing" | "html-catch-all" | "redirect" | "unavailable";

/**
 * The whole API failing for a while: `unreachable` (every connection dies unanswered),
 * `unavailable` (503), `off-contract` (reads answer a `latestTurn.state` the contract has no word for).
 */
export type FakeT3Outage = "unreachable" | "unavailable" | "off-contract";

export interface FakeT3Options {
  /** Token → scopes. Default: `test-t3-token` with both scopes. */
  tokens?: Record<string, Array<"orchestration:operate" | "orchestration:read">>;
  /**
   * v0.0.27: the snapshot carries messages and activities, there is no `/threads/:id` (404).
   * v0.0.32: the snapshot omits them, `/threads/:id` returns one thread with them.
   */
  version?: FakeT3Version;
  /** Default: `missing` on v0.0.27, `json` after. */
  threadEndpoint?: FakeT3ThreadEndpoint;
  /** Whether a path is an existing directory on the server (default: any absolute path). */
  isDirectory?: (path: string) => boolean;
  now?: () => Date;
}

export interface FakeT3 {
  url: string;
  token: string;
  /** Every accepted command, in order (re-sent duplicates included once). */
  commands: Command[];
  /** Every rejected dispatch: status and error body. */
  rejections: Array<{ status: number; body: T3ErrorBody; command: unknown }>;
  requests: SeenRequest[];
  projects(): Project[];
  thread(threadId: string): Thread & { messages: Message[]; activities: Activity[] };
  threads(): Thread[];
  agent(threadId: string): AgentScript;
  /** An activity as the server records it: only `tone`, `kind` and `createdAt` are sure to be set. */
  addActivity(threadId: string, activity: Activity): void;
  /** The API fails in this way until called again with null. */
  setOutage(mode: FakeT3Outage | null): void;
  /** A project as another client (or a past run) left it. */
  seedProject(project: Partial<Project> & Pick<Project, "id" | "workspaceRoot">): void;
  /**
   * The next `times` dispatches of this command type are recorded (or answered as a resend), and
   * then the connection dies before the answer: what a client sees when the network fails at the
   * worst moment.
   */
  dropAnswers(type: Command["type"], times?: number): void;
  close(): Promise<void>;
}

const SCOPES_ALL: Array<"orchestration:operate" | "orchestration:read"> = [
  "orchestration:operate",
  "orchestration:read",
];

/**
 * A T3 Code server as far as the AFK loop can tell: it validates every dispatched command with the
 * contract's zod schemas, answers `{sequence}`, dedupes by `commandId`, returns domain rejections
 * as an opaque 500 like the real server, and reproduces the null/stale `latestTurn` quirk.
 */
export async function startFakeT3(options: FakeT3Options = {}): Promise<FakeT3> {
  const tokens = options.tokens ?? { "test-t3-token": SCOPES_ALL };
  const version = options.version ?? "v0.0.27";
  const isDirectory = options.isDirectory ?? ((p: string) => p.startsWith("/"));
  const threadEndpoint = options.threadEndpoint ?? (version === "v0.0.27" ? "missing" : "json");
  let outage: FakeT3Outage | null = null;
  const now = options.now ?? (() => new Date());
  const projects = new Map<string, Project>();
  const threads = new Map<string, ThreadState>();
  const seenCommands = new Map<string, number>();
  const commands: Command[] = [];
  const rejections: FakeT3["rejections"] = [];
  const requests: SeenRequest[] = [];
  let sequence = 0;
  let ids = 0;
  const drops = new Map<Command["type"], number>();
  /** Kills the connection instead of answering, if a drop is armed for this command type. */
  const dropped = (c: { env: unknown }, type: Command["type"]): boolean => {
    const left = drops.get(type) ?? 0;
    if (left <= 0) return false;
    drops.set(type, left - 1);
    (c.env as { incoming: { socket: { destroy(): void } } }).incoming.socket.destroy();
    return true;
  };

  /** Server-side timestamps never go backwards relative to what the thread already holds. */
  function stamp(state?: ThreadState): string {
    let t = now().getTime();
    const last = state?.messages.at(-1)?.createdAt;
    if (last && Date.parse(last) >= t) t = Date.parse(last) + 1;
    return new Date(t).toISOString();
  }

  const error = (_tag: string, code: string, reason: string): T3ErrorBody => ({ _tag, code, reason });
  const opaque = () =>
    error(
      "OrchestrationDispatchCommandError",
      "orchestration_dispatch_failed",
      "Failed to dispatch orchestration command",
    );

  class Rejection extends Error {
    constructor(
      readonly status: 400 | 500,
      readonly body: T3ErrorBody,
    ) {
      super(body.reason);
    }
  }

  function liveThread(threadId: string): ThreadState {
    const state = threads.get(threadId);
    if (!state || state.thread.deletedAt !== null) throw new Rejection(500, opaque());
    return state;
  }

  function apply(cmd: Command): void {
    const at = "createdAt" in cmd ? cmd.createdAt : now().toISOString();
    switch (cmd.type) {
      case "project.create": {
        // A reused id (even a deleted project's) is a domain rejection: opaque 500.
        if (projects.has(cmd.projectId)) throw new Rejection(500, opaque());
        if (!isDirectory(cmd.workspaceRoot) && !cmd.createWorkspaceRootIfMissing) {
          throw new Rejection(
            400,
            error(
              "OrchestrationDispatchCommandError",
              "invalid_command",
              `workspaceRoot is not a directory: ${cmd.workspaceRoot}`,
            ),
          );
        }
        projects.set(cmd.projectId, {
          id: cmd.projectId,
          title: cmd.title,
          workspaceRoot: cmd.workspaceRoot,
          defaultModelSelection: cmd.defaultModelSelection ?? null,
          scripts: [],
          createdAt: at,
          updatedAt: at,
          deletedAt: null,
        });
        return;
      }
      case "thread.create": {
        const project = projects.get(cmd.projectId);
        if (!project || project.deletedAt !== null || threads.has(cmd.threadId))
          throw new Rejection(500, opaque());
        threads.set(cmd.threadId, {
          thread: {
            id: cmd.threadId,
            projectId: cmd.projectId,
            title: cmd.title,
            modelSelection: cmd.modelSelection,
            runtimeMode: cmd.runtimeMode,
            interactionMode: cmd.interactionMode ?? "default",
            branch: cmd.branch,
            worktreePath: cmd.worktreePath,
            latestTurn: null,
            session: null,
            checkpoints: [],
            proposedPlans: [],
            createdAt: at,
            updatedAt: at,
            archivedAt: null,
            deletedAt: null,
          },
          messages: [],
          activities: [],
          turn: null,
          pendingMessageIds: [],
        });
        return;
      }
      case "thread.turn.start": {
        const state = liveThread(cmd.threadId);
        // The server keeps the thread's stored modes; latestTurn still shows the previous turn (stale).
        state.messages.push({
          id: cmd.message.messageId,
          role: "user",
          text: cmd.message.text,
          turnId: null,
          streaming: false,
          createdAt: cmd.createdAt,
          updatedAt: cmd.createdAt,
        });
        state.pendingMessageIds.push(cmd.message.messageId);
        return;
      }
      case "thread.turn.interrupt":
      case "thread.session.stop": {
        const state = liveThread(cmd.threadId);
        if (state.thread.session) {
          state.thread.session = {
            ...state.thread.session,
            status: cmd.type === "thread.session.stop" ? "stopped" : "interrupted",
            activeTurnId: null,
            updatedAt: at,
          };
        }
        return;
      }
      case "thread.delete":
        liveThread(cmd.threadId).thread.deletedAt = now().toISOString();
        return;
      case "thread.archive":
        liveThread(cmd.threadId).thread.archivedAt = now().toISOString();
        return;
    }
  }

  function view(state: ThreadState, withMessages: boolean): Thread {
    const base = { ...state.thread };
    if (!withMessages) return base;
    return { ...base, messages: [...state.messages], activities: [...state.activities] };
  }

  function readModel(): ReadModel {
    const withMessages = version === "v0.0.27";
    return {
      snapshotSequence: sequence,
      projects: [...projects.values()],
      threads: [...threads.values()].map((s) => view(s, withMessages)),
      updatedAt: now().toISOString(),
    };
  }

  type Scope = "orchestration:operate" | "orchestration:read";
  function authorise(
    header: string | undefined,
    scope: Scope,
  ): { status: 401 | 403; body: T3ErrorBody } | null {
    const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    const scopes = token ? tokens[token] : undefined;
    if (!scopes)
      return { status: 401, body: error("AuthError", "auth_invalid", "Invalid or missing bearer token") };
    if (!scopes.includes(scope))
      return { status: 403, body: error("AuthError", "insufficient_scope", `Requires ${scope}`) };
    return null;
  }

  const app = new Hono();
  app.use("*", async (c, next) => {
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname });
    await next();
  });

  // The API failing for a while (`setOutage`), before any route answers.
  app.use("/api/*", async (c, next) => {
    if (outage === "unreachable") {
      (c.env as { incoming: { socket: { destroy(): void } } }).incoming.socket.destroy();
      return c.body(null);
    }
    if (outage === "unavailable") return c.text("Service Unavailable", 503);
    await next();
    const json = c.res.headers.get("content-type")?.includes("json");
    if (outage !== "off-contract" || c.req.method !== "GET" || c.res.status !== 200 || !json) return;
    const body = (await c.res.json()) as { thread?: Thread; threads?: Thread[] };
    for (const t of body.thread ? [body.thread] : (body.threads ?? [])) {
      // A state a newer (or broken) server might invent: the contract has exactly four.
      const state = "pending" as string as LatestTurn["state"];
      t.latestTurn = {
        turnId: t.latestTurn?.turnId ?? "turn-0",
        state,
        requestedAt: t.createdAt,
        startedAt: null,
        completedAt: null,
        assistantMessageId: null,
      };
    }
    c.res = new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  });

  app.post("/api/orchestration/dispatch", async (c) => {
    const denied = authorise(c.req.header("authorization"), "orchestration:operate");
    if (denied) return c.json(denied.body, denied.status);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      const e = error("OrchestrationHttpError", "invalid_request", "Request body is not JSON");
      rejections.push({ status: 400, body: e, command: null });
      return c.json(e, 400);
    }
    const parsed = Command.safeParse(body);
    if (!parsed.success) {
      const e = error(
        "OrchestrationHttpError",
        "invalid_command",
        parsed.error.issues.map((i) => `${i.path.join(".") || "(command)"}: ${i.message}`).join("; "),
      );
      rejections.push({ status: 400, body: e, command: body });
      return c.json(e, 400);
    }
    const cmd = parsed.data;
    const seen = seenCommands.get(cmd.commandId);
    if (seen !== undefined) {
      if (dropped(c, cmd.type)) return c.body(null);
      return c.json({ sequence: seen });
    }
    try {
      apply(cmd);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      rejections.push({ status: err.status, body: err.body, command: body });
      return c.json(err.body, err.status);
    }
    sequence += 1;
    seenCommands.set(cmd.commandId, sequence);
    commands.push(cmd);
    if (dropped(c, cmd.type)) return c.body(null);
    return c.json({ sequence });
  });

  app.get("/api/orchestration/snapshot", (c) => {
    const denied = authorise(c.req.header("authorization"), "orchestration:read");
    if (denied) return c.json(denied.body, denied.status);
    return c.json(readModel());
  });

  // What may answer in front of (or instead of) the thread endpoint: none of it is JSON.
  const page = (title: string) =>
    `<!doctype html><html><head><title>${title}</title></head><body></body></html>`;
  app.get("/login", (c) => c.html(page("Sign in")));
  if (threadEndpoint === "html-catch-all") {
    app.get("/api/orchestration/threads/:threadId", (c) => c.html(page("T3 Code")));
  } else if (threadEndpoint === "redirect") {
    app.get("/api/orchestration/threads/:threadId", (c) => c.redirect("/login", 302));
  } else if (threadEndpoint === "unavailable") {
    app.get("/api/orchestration/threads/:threadId", (c) => c.text("Service Unavailable", 503));
  }

  if (threadEndpoint === "json") {
    app.get("/api/orchestration/threads/:threadId", (c) => {
      const denied = authorise(c.req.header("authorization"), "orchestration:read");
      if (denied) return c.json(denied.body, denied.status);
      const state = threads.get(c.req.param("threadId"));
      if (!state) return c.json(error("NotFound", "not_found", "Thread not found"), 404);
      return c.json({ snapshotSequence: sequence, thread: view(state, true) });
    });
  }

  const agent = (threadId: string): AgentScript => {
    const state = threads.get(threadId);
    if (!state) throw new Error(`fake T3: no thread ${threadId}`);
    return agentScript(state, stamp, () => {
      ids += 1;
      return ids;
    });
  };

  const server: Listening = await listen(app);
  const token = Object.keys(tokens).find((t) => tokens[t]?.length === 2) ?? Object.keys(tokens)[0] ?? "";
  return {
    url: server.url,
    token,
    commands,
    rejections,
    requests,
    projects: () => [...projects.values()],
    threads: () => [...threads.values()].map((s) => s.thread),
    thread(threadId) {
      const state = threads.get(threadId);
      if (!state) throw new Error(`fake T3: no thread ${threadId}`);
      return { ...state.thread, messages: state.messages, activities: state.activities };
    },
    agent,
    addActivity(threadId, activity) {
      const state = threads.get(threadId);
      if (!state) throw new Error(`fake T3: no thread ${threadId}`);
      state.activities.push(activity);
    },
    setOutage(mode) {
      outage = mode;
    },
    seedProject(p) {
      const at = now().toISOString();
      projects.set(p.id, {
        title: p.id,
        defaultModelSelection: null,
        scripts: [],
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
        ...p,
      });
    },
    dropAnswers(type, times = 1) {
      drops.set(type, (drops.get(type) ?? 0) + times);
    },
    close: () => server.close(),
  };
}
