/**
 * A caller's tools offered to the model through an MCP server that lives in the process driving
 * the CLI (`--mcp-config` type `sdk`): the CLI sends MCP requests as `mcp_message` control requests
 * on stdout and takes the answers as `control_response` lines on stdin. Pure: it decides what to
 * answer and which calls are held; writing the lines is the driver's.
 *
 * Facts it rests on (packages/claude/test/cli-facts.client-tools.cli.test.ts): a `tools/call`
 * carries the API's tool_use id in `_meta["claudecode/toolUseId"]` and may be held until its result
 * is known; parallel calls are asked one at a time, each after the previous one is answered.
 */

/** The in-process server's name: the model sees each tool as `mcp__client__<name>`. */
export const CLIENT_TOOL_SERVER = "client";
export const CLIENT_TOOL_PREFIX = `mcp__${CLIENT_TOOL_SERVER}__`;
/** The API takes tool names of at most 64 characters; the CLI does not shorten the prefixed name. */
export const MAX_CLIENT_TOOL_NAME = 64 - CLIENT_TOOL_PREFIX.length;
const NAME = /^[A-Za-z0-9_-]+$/;

/** A tool the caller defines and runs itself. */
export interface ClientTool {
  name: string;
  description?: string | undefined;
  /** A JSON schema of the arguments, an object at the top. */
  inputSchema: Record<string, unknown>;
}

/** A call the model made to a caller's tool. */
export interface ClientToolCall {
  /** The API's tool_use id. */
  toolUseId: string;
  /** The caller's name for the tool (without the prefix). */
  name: string;
  arguments: Record<string, unknown>;
}

/** The caller's answer to one call. */
export interface ClientToolResult {
  toolUseId: string;
  content: string;
  isError?: boolean | undefined;
}

/**
 * Why the CLI cannot offer a tool of this name unchanged, if it cannot: the CLI replaces other
 * characters with `_` (the model would call a name the caller does not know) and sends names past
 * the API's limit.
 */
export function clientToolNameProblem(name: string): string | undefined {
  if (!NAME.test(name)) return "may hold only letters, digits, '_' and '-'";
  if (name.length > MAX_CLIENT_TOOL_NAME) return `is longer than ${MAX_CLIENT_TOOL_NAME} characters`;
  return undefined;
}

/** The caller's name of a tool the model called, or undefined when it is not a caller's tool. */
export function clientToolNameOf(offered: string): string | undefined {
  return offered.startsWith(CLIENT_TOOL_PREFIX) ? offered.slice(CLIENT_TOOL_PREFIX.length) : undefined;
}

/**
 * The CLI arguments that offer the model the caller's tools and nothing else: no built-in tool, no
 * MCP server from any settings, every tool of the in-process server allowed. The process must run
 * with `--input-format stream-json --output-format stream-json`.
 */
export function clientToolArgs(): string[] {
  return ["--tools", "", "--strict-mcp-config", ...clientToolServerArgs()];
}

/** The in-process server and the permission to call its tools (no others): `--mcp-config … --allowedTools …`. */
export function clientToolServerArgs(): string[] {
  return [
    "--mcp-config",
    JSON.stringify({ mcpServers: { [CLIENT_TOOL_SERVER]: { type: "sdk", name: CLIENT_TOOL_SERVER } } }),
    "--allowedTools",
    `mcp__${CLIENT_TOOL_SERVER}`,
  ];
}

interface McpMessage {
  jsonrpc?: string;
  id?: string | number;
  method?: string;
  params?: {
    protocolVersion?: string;
    name?: string;
    arguments?: Record<string, unknown>;
    _meta?: Record<string, unknown>;
  };
}

/** What to do with one stdout line. */
export interface ToolHostStep {
  /** Lines to write to the CLI's stdin, in order. */
  replies: Record<string, unknown>[];
  /** A call that is now held, waiting for the caller's result. */
  held?: ClientToolCall;
  /**
   * The model's message is complete and ends in calls of the caller's tools, the first of them
   * held: every one of them, in the message's order — what the caller must answer, all at once.
   */
  calls?: ClientToolCall[];
}

const JSONRPC_METHOD_NOT_FOUND = -32601;

export class ToolHost {
  private readonly tools: readonly ClientTool[];
  /** Held calls by tool_use id: the control request to answer. */
  private readonly waiting = new Map<string, { requestId: string; mcpId: string | number | undefined }>();
  /** Results given before the CLI asked for their call (parallel calls are asked one by one). */
  private readonly early = new Map<string, ClientToolResult>();
  /** The model's message being printed: its id, its calls of the caller's tools, whether it ended. */
  private message: { id?: string; calls: ClientToolCall[]; complete: boolean; reported: boolean } = {
    calls: [],
    complete: false,
    reported: false,
  };
  /** Calls reported to the caller and not answered yet. */
  private readonly pending = new Map<string, ClientToolCall>();

  constructor(tools: readonly ClientTool[]) {
    for (const t of tools) {
      const problem = clientToolNameProblem(t.name);
      if (problem) throw new Error(`tool name '${t.name}' ${problem}`);
    }
    this.tools = tools;
  }

  /**
   * Handles one stdout line of the CLI (the parsed JSON object): this server's requests are
   * answered or held; the model's messages are followed, so that once one is complete and its
   * first call held, all its calls are reported (`calls`). Anything else: nothing.
   */
  onLine(line: Record<string, unknown>): ToolHostStep {
    if (line.type === "assistant" || line.type === "stream_event") return this.follow(line);
    if (line.type !== "control_request") return { replies: [] };
    const request = line.request as
      | { subtype?: string; server_name?: string; message?: McpMessage }
      | undefined;
    if (request?.subtype !== "mcp_message" || request.server_name !== CLIENT_TOOL_SERVER)
      return { replies: [] };
    const requestId = String(line.request_id);
    const msg = request.message ?? {};
    const reply = (payload: Record<string, unknown>) => ({
      replies: [controlResponse(requestId, { jsonrpc: "2.0", id: msg.id, ...payload })],
    });
    switch (msg.method) {
      case "initialize":
        return reply({
          result: {
            protocolVersion: msg.params?.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: CLIENT_TOOL_SERVER, version: "1" },
          },
        });
      case "tools/list":
        return reply({
          result: {
            tools: this.tools.map((t) => ({
              name: t.name,
              ...(t.description !== undefined ? { description: t.description } : {}),
              inputSchema: t.inputSchema,
            })),
          },
        });
      case "tools/call":
        return this.onCall(requestId, msg);
      default:
        // Notifications (no id) and pings are acknowledged; anything else is not served.
        if (msg.id === undefined || msg.method === "ping" || msg.method?.startsWith("notifications/"))
          return reply({ result: {} });
        return reply({ error: { code: JSONRPC_METHOD_NOT_FOUND, message: `${msg.method} is not served` } });
    }
  }

  private onCall(requestId: string, msg: McpMessage): ToolHostStep {
    const toolUseId = msg.params?._meta?.["claudecode/toolUseId"];
    const name = msg.params?.name ?? "";
    const answerWith = (result: ClientToolResult | { content: string; isError: true }) => ({
      replies: [controlResponse(requestId, { jsonrpc: "2.0", id: msg.id, result: callResult(result) })],
    });
    if (typeof toolUseId !== "string") {
      return answerWith({ content: "the call carries no tool_use id", isError: true });
    }
    if (!this.tools.some((t) => t.name === name)) {
      return answerWith({ content: `no tool named '${name}'`, isError: true });
    }
    const early = this.early.get(toolUseId);
    if (early) {
      this.early.delete(toolUseId);
      return answerWith(early);
    }
    this.waiting.set(toolUseId, { requestId, mcpId: msg.id });
    const held = { toolUseId, name, arguments: msg.params?.arguments ?? {} };
    return { replies: [], held, ...this.report() };
  }

  /** The model's top-level messages: which calls of the caller's tools each holds, when it ends. */
  private follow(line: Record<string, unknown>): ToolHostStep {
    if (line.parent_tool_use_id) return { replies: [] };
    if (line.type === "stream_event") {
      const type = (line.event as { type?: unknown } | undefined)?.type;
      if (type === "message_start") this.message = { calls: [], complete: false, reported: false };
      if (type === "message_stop") this.message.complete = true;
      return { replies: [], ...this.report() };
    }
    const message = line.message as { id?: string; content?: unknown } | undefined;
    if (message?.id !== undefined && message.id !== this.message.id) {
      // One line per content block of the same message. The first line after `message_start`
      // names the message; another id without one is another message.
      if (this.message.id !== undefined) this.message = { calls: [], complete: false, reported: false };
      this.message.id = message.id;
    }
    for (const block of Array.isArray(message?.content) ? message.content : []) {
      const b = block as { type?: unknown; id?: unknown; name?: unknown; input?: unknown };
      if (b.type !== "tool_use" || typeof b.id !== "string" || typeof b.name !== "string") continue;
      const name = clientToolNameOf(b.name);
      if (name === undefined || this.message.calls.some((c) => c.toolUseId === b.id)) continue;
      const args =
        typeof b.input === "object" && b.input !== null ? (b.input as Record<string, unknown>) : {};
      this.message.calls.push({ toolUseId: b.id, name, arguments: args });
    }
    return { replies: [], ...this.report() };
  }

  /** The message's calls, once: when it is complete and one of them is held. */
  private report(): { calls?: ClientToolCall[] } {
    const m = this.message;
    if (m.reported || !m.complete || !m.calls.some((c) => this.waiting.has(c.toolUseId))) return {};
    m.reported = true;
    for (const c of m.calls) this.pending.set(c.toolUseId, c);
    return { calls: [...m.calls] };
  }

  /** The calls reported and not answered yet, in order. */
  pendingCalls(): ClientToolCall[] {
    return [...this.pending.values()];
  }

  /**
   * Why these results cannot answer the pending calls, if they cannot: each pending call answered
   * exactly once, and nothing else.
   */
  resultsProblem(results: readonly ClientToolResult[]): string | undefined {
    const given = results.map((r) => r.toolUseId);
    const twice = given.filter((id, i) => given.indexOf(id) !== i);
    const unknown = given.filter((id) => !this.pending.has(id));
    const missing = [...this.pending.keys()].filter((id) => !given.includes(id));
    const problems = [
      ...(this.pending.size === 0 ? ["no tool call is waiting for a result"] : []),
      ...(unknown.length && this.pending.size
        ? [`not a pending call: ${[...new Set(unknown)].join(", ")}`]
        : []),
      ...(twice.length ? [`answered more than once: ${[...new Set(twice)].join(", ")}`] : []),
      ...(missing.length ? [`no result for: ${missing.join(", ")}`] : []),
    ];
    return problems.length ? problems.join("; ") : undefined;
  }

  /**
   * The caller's results: the held calls they answer are answered now (the returned lines), the
   * others when the CLI asks for them.
   */
  supply(results: readonly ClientToolResult[]): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const r of results) {
      this.pending.delete(r.toolUseId);
      const held = this.waiting.get(r.toolUseId);
      if (held) {
        this.waiting.delete(r.toolUseId);
        out.push(controlResponse(held.requestId, { jsonrpc: "2.0", id: held.mcpId, result: callResult(r) }));
      } else {
        this.early.set(r.toolUseId, r);
      }
    }
    return out;
  }

  /** The tool_use ids of the calls held now. */
  held(): string[] {
    return [...this.waiting.keys()];
  }
}

function callResult(r: { content: string; isError?: boolean | undefined }) {
  return { content: [{ type: "text", text: r.content }], ...(r.isError ? { isError: true } : {}) };
}

function controlResponse(requestId: string, mcpResponse: Record<string, unknown>): Record<string, unknown> {
  return {
    type: "control_response",
    response: { subtype: "success", request_id: requestId, response: { mcp_response: mcpResponse } },
  };
}
