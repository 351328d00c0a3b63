import { applyEvent, assistantEntry, pendingPermissions } from "../../../src/core/history.js";
import type { ChatEvent, HistoryEntry, PermissionSummary, SessionView } from "../../../src/core/wire.js";
import { type Api, ApiError, AuthRequired, messageOf } from "./api.svelte.js";
import { errorOf } from "./errors.js";
import { readSse } from "./sse.js";

const SESSION_KEY = "breakglass.session";

type AssistantEntry = Extract<HistoryEntry, { role: "assistant" }>;

export interface ChatProblem {
  message: string;
  /** The stream dropped while the turn may still run: reattach rather than resend. */
  reconnect: boolean;
}

/**
 * The chat: one session (remembered in this tab), its history, and the running turn streamed
 * from a POST (SSE over fetch). A dropped stream never loses the turn: `reconnect` re-reads the
 * session and attaches to the turn from the last event seen.
 */
export class ChatStore {
  sessionId = $state<string | null>(null);
  entries = $state<HistoryEntry[]>([]);
  streaming = $state(false);
  stopping = $state(false);
  problem = $state<ChatProblem | null>(null);
  notice = $state<string | null>(null);
  /** Bumped on every change of the streamed text: the view scrolls on it. */
  version = $state(0);
  private lastSeq = -1;
  /** The stream whose events are applied; an older one still open stops at its next event. */
  private streamId = 0;
  private consuming = false;

  constructor(private readonly api: Api) {
    try {
      this.sessionId = sessionStorage.getItem(SESSION_KEY);
    } catch {
      this.sessionId = null;
    }
  }

  /** Re-reads the session from the server and attaches to a running turn. */
  async resync(): Promise<void> {
    const id = this.sessionId;
    // A live stream is already following the turn.
    if (!id || this.consuming) return;
    this.problem = null;
    let view: SessionView;
    try {
      view = await this.api.json<SessionView>(`/api/sessions/${id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // The server restarted: its memory is gone, the CLI's transcript is not. Adopt the id again.
        await this.adopt(id).catch(() => {});
        if (this.entries.length === 0)
          this.notice =
            "The server restarted. The agent still remembers this conversation; earlier messages are not shown.";
        this.streaming = false;
        return;
      }
      if (!(err instanceof AuthRequired)) this.problem = { message: messageOf(err), reconnect: true };
      return;
    }
    this.entries = view.history;
    this.lastSeq = view.lastSeq;
    this.version++;
    if (view.running) await this.attach(id, view.lastSeq);
    else this.streaming = false;
  }

  /** Starts a turn; true once the server accepted it (its events then stream in). */
  async send(text: string): Promise<boolean> {
    if (this.streaming || text.trim() === "") return false;
    this.problem = null;
    this.notice = null;
    try {
      const id = await this.ensureSession();
      let res = await this.api.raw(`/api/sessions/${id}/messages`, {
        method: "POST",
        body: JSON.stringify({ text }),
      });
      if (res.status === 404) {
        await this.adopt(id);
        res = await this.api.raw(`/api/sessions/${id}/messages`, {
          method: "POST",
          body: JSON.stringify({ text }),
        });
      }
      if (!res.ok) {
        const error = errorOf(await res.json().catch(() => undefined));
        this.problem = { message: error?.detail || `HTTP ${res.status}`, reconnect: false };
        return false;
      }
      const at = new Date().toISOString();
      this.entries.push({ role: "user", text, at });
      this.entries.push(assistantEntry(at));
      this.lastSeq = -1;
      // Accepted: the turn streams on while the caller gets on with it.
      void this.consume(res);
      return true;
    } catch (err) {
      if (!(err instanceof AuthRequired)) this.problem = { message: messageOf(err), reconnect: false };
      return false;
    }
  }

  /** Attaches to the session's turn after `after` (the stream dropped, or the page was reloaded). */
  async reconnect(): Promise<void> {
    await this.resync();
  }

  /** The prompts of the running turn nobody has answered yet. */
  get pending(): PermissionSummary[] {
    void this.version;
    const entry = this.liveEntry();
    return entry && !entry.complete ? pendingPermissions(entry) : [];
  }

  /** Answers a prompt; the decision itself arrives as an event of the turn. */
  async answerPermission(id: string, decision: "allow" | "deny", note: string): Promise<boolean> {
    if (!this.sessionId) return false;
    try {
      await this.api.json(`/api/sessions/${this.sessionId}/permissions/${id}`, {
        method: "POST",
        body: JSON.stringify({ decision, ...(note ? { note } : {}) }),
      });
      return true;
    } catch (err) {
      if (!(err instanceof AuthRequired))
        this.problem = {
          message:
            err instanceof ApiError && err.status === 404
              ? "That request is no longer open (answered, timed out, or the turn ended)."
              : messageOf(err),
          reconnect: false,
        };
      return false;
    }
  }

  async stop(): Promise<void> {
    if (!this.sessionId || !this.streaming) return;
    this.stopping = true;
    try {
      await this.api.json(`/api/sessions/${this.sessionId}/current`, { method: "DELETE" });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "no_turn_running"))
        this.problem = { message: messageOf(err), reconnect: true };
    }
  }

  newChat(): void {
    if (this.streaming) return;
    this.sessionId = null;
    this.entries = [];
    this.problem = null;
    this.notice = null;
    try {
      sessionStorage.removeItem(SESSION_KEY);
    } catch {}
  }

  private async ensureSession(): Promise<string> {
    if (this.sessionId) return this.sessionId;
    const view = await this.api.json<SessionView>("/api/sessions", { method: "POST", body: "{}" });
    this.remember(view.id);
    return view.id;
  }

  private async adopt(id: string): Promise<void> {
    await this.api.json<SessionView>("/api/sessions", { method: "POST", body: JSON.stringify({ id }) });
    this.remember(id);
  }

  private remember(id: string): void {
    this.sessionId = id;
    try {
      sessionStorage.setItem(SESSION_KEY, id);
    } catch {}
  }

  private async attach(id: string, after: number): Promise<void> {
    try {
      const res = await this.api.raw(`/api/sessions/${id}/current?after=${after}`);
      if (!res.ok) {
        this.streaming = false;
        return;
      }
      await this.consume(res);
    } catch (err) {
      if (!(err instanceof AuthRequired)) this.problem = { message: messageOf(err), reconnect: true };
    }
  }

  private liveEntry(): AssistantEntry | undefined {
    const last = this.entries.at(-1);
    return last?.role === "assistant" ? last : undefined;
  }

  private async consume(res: Response): Promise<void> {
    const body = res.body;
    if (!body) throw new Error("The server sent no stream.");
    const mine = ++this.streamId;
    this.streaming = true;
    this.consuming = true;
    let done = false;
    let superseded = false;
    try {
      for await (const m of readSse(body)) {
        if (mine !== this.streamId) {
          superseded = true;
          break;
        }
        const event = JSON.parse(m.data) as ChatEvent;
        if (m.id !== undefined) this.lastSeq = Number(m.id);
        const entry = this.liveEntry();
        if (entry) applyEvent(entry, event);
        this.version++;
        if (event.type === "done") {
          done = true;
          break;
        }
      }
      if (superseded) await body.cancel().catch(() => {});
      else if (!done) throw new Error("stream ended early");
    } catch {
      if (!done && mine === this.streamId) {
        this.problem = {
          message: "The connection dropped. The agent keeps working; reconnect to follow it.",
          reconnect: true,
        };
      }
    } finally {
      if (mine === this.streamId) {
        this.consuming = false;
        if (done) {
          this.streaming = false;
          this.stopping = false;
        }
      }
    }
  }
}
