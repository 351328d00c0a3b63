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
  return [
    "--tools",
    "",
    "--strict-mcp-config",
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
}

const JSONRPC_METHOD_NOT_FOUND = -32601;

export class ToolHost {
  private readonly tools: readonly ClientTool[];
  /** Held calls by tool_use id: the control request to answer. */
  private readonly waiting = new Map<string, { requestId: string; mcpId: string | number | undefined }>();
  /** Results given before the CLI asked for their call (parallel calls are asked one by one). */
  private readonly early = new Map<string, ClientToolResult>();

  constructor(tools: readonly ClientTool[]) {
    for (const t of tools) {
      const problem = clientToolNameProblem(t.name);
      if (problem) throw new Error(`tool name '${t.name}' ${problem}`);
    }
    this.tools = tools;
  }

  /** Handles one parsed stdout line of the CLI; lines other than this server's requests: nothing. */
  onLine(line: Record<string, unknown>): ToolHostStep {
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
    return { replies: [], held: { toolUseId, name, arguments: msg.params?.arguments ?? {} } };
  }

  /**
   * The caller's results: the held calls they answer are answered now (the returned lines), the
   * others when the CLI asks for them.
   */
  supply(results: readonly ClientToolResult[]): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const r of results) {
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
