import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One content block of a scripted assistant message. */
export type StubBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input: Record<string, unknown>; id?: string };

/** What the stub answers to one Messages API call. */
export type StubReply =
  | {
      kind: "message";
      blocks: StubBlock[];
      /** Text and tool input are sent in deltas of at most this many characters. */
      chunkSize?: number;
      /** Pause between SSE events, to make streaming observable. */
      delayMs?: number;
      /** Wait this long before the first byte (simulates model latency). */
      firstByteDelayMs?: number;
      /**
       * After this many text deltas, send nothing more until `until` settles: the rest of the
       * answer cannot reach a client before the client has seen the first part (proves streaming
       * is live without measuring time). See {@link streamGate}.
       */
      pauseAfterDeltas?: { count: number; until: Promise<unknown> };
      stopReason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence";
      usage?: { input_tokens?: number; output_tokens?: number };
      /** Extra response headers, e.g. the API's `anthropic-ratelimit-unified-*` plan utilisation. */
      headers?: Record<string, string>;
    }
  | {
      kind: "error";
      status: number;
      errorType?: string;
      message?: string;
      headers?: Record<string, string>;
    }
  /** Accept the request and never answer (until the stub closes). */
  | { kind: "hang" };

/** A Messages API request as the stub saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (`model`, `system`, `messages`, `tools`, …). */
  body: MessagesRequestBody;
  /** True for the CLI's side requests (session title generation), which tests rarely care about. */
  auxiliary: boolean;
  receivedAt: number;
}

export interface MessagesRequestBody {
  model?: string;
  system?: string | Array<{ type: string; text?: string }>;
  messages?: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  tools?: Array<{ name: string; [k: string]: unknown }>;
  stream?: boolean;
  max_tokens?: number;
  output_config?: unknown;
  [k: string]: unknown;
}

export type StubHandler = (req: RecordedRequest) => StubReply | undefined;

export interface MessagesStub {
  /** Base URL for `ANTHROPIC_BASE_URL`. */
  url: string;
  /** Every `POST /v1/messages` received, auxiliary ones included, in order. */
  requests: RecordedRequest[];
  /** The non-auxiliary requests: the agent's own turns. */
  turnRequests(): RecordedRequest[];
  /** Queue replies for the next agent requests, first in first out. */
  enqueue(...replies: StubReply[]): void;
  /** Answer requests by a function; it wins over the queue when it returns a reply. */
  setHandler(handler: StubHandler | undefined): void;
  /** Reply used when the queue is empty and no handler answers. */
  setDefault(reply: StubReply): void;
  /** Resolves when the given number of agent requests has arrived. */
  waitForTurnRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  reset(): void;
  close(): Promise<void>;
}

export const text = (
  value: string,
  opts: Partial<Extract<StubReply, { kind: "message" }>> = {},
): StubReply => ({
  kind: "message",
  blocks: [{ type: "text", text: value }],
  ...opts,
});

export const toolUse = (
  name: string,
  input: Record<string, unknown>,
  opts: Partial<Extract<StubReply, { kind: "message" }>> & { preamble?: string } = {},
): StubReply => {
  const { preamble, ...rest } = opts;
  const blocks: StubBlock[] = preamble ? [{ type: "text", text: preamble }] : [];
  blocks.push({ type: "tool_use", name, input });
  return { kind: "message", blocks, stopReason: "tool_use", ...rest };
};

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

export const apiError = (status: number, message?: string, headers?: Record<string, string>): StubReply => ({
  kind: "error",
  status,
  errorType: ERROR_TYPES[status] ?? "api_error",
  message: message ?? `stub error ${status}`,
  ...(headers ? { headers } : {}),
});

/** The tool the CLI offers the model for `--json-schema`; its input is the run's structured output. */
export const STRUCTURED_OUTPUT_TOOL = "StructuredOutput";

/** A reply calling the CLI's `StructuredOutput` tool with `value`: the run's structured output. */
export const structuredOutput = (
  value: Record<string, unknown>,
  opts: Parameters<typeof toolUse>[2] = {},
): StubReply => toolUse(STRUCTURED_OUTPUT_TOOL, value, opts);

/** The API's 400 for a request longer than the model's context window. */
export const promptTooLong = (tokens = 250_000, maximum = 200_000): StubReply =>
  apiError(400, `prompt is too long: ${tokens} tokens > ${maximum} maximum`);

/** The CLI asks for a session title on the side; such requests carry a JSON output format (`title`). */
function isAuxiliary(body: MessagesRequestBody): boolean {
  const config = body.output_config as { format?: unknown } | undefined;
  return config?.format !== undefined;
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A gate for `pauseAfterDeltas`: the stub holds the rest of an answer until the test opens it,
 * typically when its client has received the first delta. If nothing opens it, it opens itself
 * after `deadlockBreakMs` (so a buffering bug fails an assertion instead of hanging the test) and
 * `openedBy` says so.
 */
export function streamGate(deadlockBreakMs = 30_000): {
  until: Promise<void>;
  open(): void;
  openedBy(): "test" | "deadlock-break" | undefined;
} {
  let opened: "test" | "deadlock-break" | undefined;
  let resolve!: () => void;
  const until = new Promise<void>((r) => {
    resolve = r;
  });
  const timer = setTimeout(() => {
    opened ??= "deadlock-break";
    resolve();
  }, deadlockBreakMs);
  timer.unref();
  return {
    until,
    open() {
      opened ??= "test";
      clearTimeout(timer);
      resolve();
    },
    openedBy: () => opened,
  };
}

function chunks(value: string, size: number): string[] {
  if (value.length === 0) return [""];
  const out: string[] = [];
  for (let i = 0; i < value.length; i += size) out.push(value.slice(i, i + size));
  return out;
}

function estimateInputTokens(body: MessagesRequestBody): number {
  return Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4));
}

async function writeMessage(
  res: ServerResponse,
  reply: Extract<StubReply, { kind: "message" }>,
  body: MessagesRequestBody,
  closed: () => boolean,
): Promise<void> {
  const delay = reply.delayMs ?? 0;
  const size = reply.chunkSize ?? 24;
  const model = body.model ?? "claude-stub";
  const inputTokens = reply.usage?.input_tokens ?? estimateInputTokens(body);
  const textLength = reply.blocks.reduce(
    (n, b) => n + (b.type === "text" ? b.text.length : JSON.stringify(b.input).length),
    0,
  );
  const outputTokens = reply.usage?.output_tokens ?? Math.max(1, Math.ceil(textLength / 4));
  const stopReason =
    reply.stopReason ?? (reply.blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
  if (reply.firstByteDelayMs) await sleep(reply.firstByteDelayMs);
  if (closed()) return;

  // The real API answers JSON unless the request says `stream: true` (the CLI's model check
  // before `set_model` sends no `stream` field at all).
  if (body.stream !== true) {
    res.writeHead(200, { "content-type": "application/json", ...reply.headers });
    res.end(
      JSON.stringify({
        id: `msg_${randomUUID().replaceAll("-", "")}`,
        type: "message",
        role: "assistant",
        model,
        content: reply.blocks.map((b) =>
          b.type === "text"
            ? b
            : {
                type: "tool_use",
                id: b.id ?? `toolu_${randomUUID().slice(0, 12)}`,
                name: b.name,
                input: b.input,
              },
        ),
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      }),
    );
    return;
  }

  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "request-id": `req_stub_${randomUUID().slice(0, 8)}`,
    ...reply.headers,
  });
  let textDeltas = 0;
  const step = async (event: string, data: unknown) => {
    if (closed()) return;
    sse(res, event, data);
    if (delay) await sleep(delay);
  };
  await step("message_start", {
    type: "message_start",
    message: {
      id: `msg_${randomUUID().replaceAll("-", "")}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: inputTokens,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  });
  for (const [index, block] of reply.blocks.entries()) {
    if (block.type === "text") {
      await step("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      });
      for (const piece of chunks(block.text, size)) {
        await step("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: piece },
        });
        textDeltas += 1;
        if (reply.pauseAfterDeltas && textDeltas === reply.pauseAfterDeltas.count) {
          await reply.pauseAfterDeltas.until;
        }
      }
    } else {
      const id = block.id ?? `toolu_stub${randomUUID().replaceAll("-", "").slice(0, 16)}`;
      await step("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id, name: block.name, input: {} },
      });
      for (const piece of chunks(JSON.stringify(block.input), size)) {
        await step("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: piece },
        });
      }
    }
    await step("content_block_stop", { type: "content_block_stop", index });
  }
  await step("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  await step("message_stop", { type: "message_stop" });
  if (!closed()) res.end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * A local Anthropic Messages API, scripted per test, recording what the real CLI sends.
 * Listens on 127.0.0.1 on a free port.
 */
export async function startMessagesStub(): Promise<MessagesStub> {
  const requests: RecordedRequest[] = [];
  let queue: StubReply[] = [];
  let handler: StubHandler | undefined;
  let fallback: StubReply = text("ok");
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();

  const pick = (rec: RecordedRequest): StubReply => {
    if (rec.auxiliary) return text('{"title":"Stub session"}');
    const fromHandler = handler?.(rec);
    if (fromHandler) return fromHandler;
    return queue.shift() ?? fallback;
  };

  const server = createServer(async (req, res) => {
    const path = req.url ?? "/";
    if (req.method === "HEAD" || (req.method === "GET" && (path === "/" || path === ""))) {
      res.writeHead(200).end();
      return;
    }
    if (req.method !== "POST" || !path.startsWith("/v1/messages")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ type: "error", error: { type: "not_found_error", message: `no route ${path}` } }),
      );
      return;
    }
    const raw = await readBody(req);
    let body: MessagesRequestBody;
    try {
      body = JSON.parse(raw) as MessagesRequestBody;
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "invalid JSON" } }),
      );
      return;
    }
    if (path.startsWith("/v1/messages/count_tokens")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ input_tokens: estimateInputTokens(body) }));
      return;
    }
    const rec: RecordedRequest = {
      method: req.method,
      path,
      headers: { ...req.headers },
      body,
      auxiliary: isAuxiliary(body),
      receivedAt: Date.now(),
    };
    requests.push(rec);
    for (const w of waiters) w();
    const reply = pick(rec);
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    switch (reply.kind) {
      case "hang":
        return; // the socket is destroyed by close()
      case "error":
        res.writeHead(reply.status, { "content-type": "application/json", ...(reply.headers ?? {}) });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: reply.errorType ?? "api_error", message: reply.message ?? "stub error" },
          }),
        );
        return;
      case "message":
        await writeMessage(res, reply, body, () => closed);
        return;
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const turnRequests = () => requests.filter((r) => !r.auxiliary);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    turnRequests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    setHandler: (h) => {
      handler = h;
    },
    setDefault: (reply) => {
      fallback = reply;
    },
    waitForTurnRequests: (count, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (turnRequests().length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(turnRequests());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stub: ${turnRequests().length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    reset: () => {
      requests.length = 0;
      queue = [];
      handler = undefined;
      fallback = text("ok");
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Since 2.1.2xx the CLI adds a reserved, deferred tool to requests that offer tools; its
 * description says never to call it, and a call is answered "No such tool available"
 * (`packages/claude/test/cli-facts.tools.cli.test.ts`). It grants nothing, so assertions about
 * what an agent may do leave it out.
 */
export const DEFERRED_TOOL_PLACEHOLDER = "DeferredToolPlaceholder";

/** The names of the tools a request offers the model, the CLI's inert placeholder left out. */
export function offeredToolNames(body: MessagesRequestBody): string[] {
  return (body.tools ?? [])
    .filter((t) => !(t.name === DEFERRED_TOOL_PLACEHOLDER && t.defer_loading === true))
    .map((t) => t.name);
}

/** The text of a request's system prompt, however it was sent. */
export function systemText(body: MessagesRequestBody): string {
  if (typeof body.system === "string") return body.system;
  return (body.system ?? []).map((b) => b.text ?? "").join("\n");
}

/** All text a request's messages carry (user and assistant turns, tool results). */
export function messagesText(body: MessagesRequestBody): string {
  return textOf(body.messages ?? []);
}

/** The text of the request's last user message: what this turn said, without the history. */
export function lastUserText(body: MessagesRequestBody): string {
  const last = (body.messages ?? []).findLast((m) => m.role === "user");
  return last ? textOf([last]) : "";
}

/** An image content block as the CLI sends it (`source.data` is the base64 the API gets). */
export interface ImageBlock {
  type: "image";
  source: { type: string; media_type: string; data: string };
}

/** The content blocks of the request's last user message (a string content is one text block). */
export function lastUserBlocks(body: MessagesRequestBody): Array<Record<string, unknown>> {
  const last = (body.messages ?? []).findLast((m) => m.role === "user");
  if (!last) return [];
  return typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content;
}

/** The image blocks of the request's last user message, in order. */
export function imageBlocksOf(body: MessagesRequestBody): ImageBlock[] {
  return lastUserBlocks(body).filter((b) => b.type === "image") as unknown as ImageBlock[];
}

function textOf(messages: NonNullable<MessagesRequestBody["messages"]>): string {
  return messages
    .map((m) =>
      typeof m.content === "string"
        ? m.content
        : m.content
            .map((c) =>
              typeof c.text === "string"
                ? c.text
                : typeof c.content === "string"
                  ? c.content
                  : JSON.stringify(c),
            )
            .join("\n"),
    )
    .join("\n");
}
