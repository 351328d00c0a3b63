import { type AuthConfig, type AuthEnv, type AuthLogger, createAuth } from "@claude-gateway/auth";
import { ConversationalRequest } from "@claude-gateway/contracts";
import { formatIssues } from "@claude-gateway/nats";
import { type PolicyGate, usageHandler } from "@claude-gateway/policy";
import {
  errorBody,
  operationalRoutes,
  type RequestVariables,
  readJsonBody,
  requestContext,
  routeNotFound,
  serviceErrorHandler,
  toServiceError,
} from "@claude-gateway/service-kit";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import type { ConversationService } from "./conversation.js";
import { fromWire } from "./core/turn.js";
import { BodyTooLargeError, InvalidRequestError } from "./errors.js";
import type { Metrics } from "./metrics.js";

export interface AppDeps {
  conversations: Pick<ConversationService, "turn">;
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  /** The scraper's token for `/metrics` (`METRICS_TOKEN`); without it `/metrics` is a 503. */
  metricsToken?: string | undefined;
  /** The caller policy, for `GET /v1/usage` (the turns themselves are admitted by `conversations`). */
  gate: PolicyGate;
  /** Ready to take turns: NATS connected, the CLI has a login, not shutting down. */
  readiness: () => { ready: boolean; reason?: string };
  maxBodyBytes?: number;
}

type Env = AuthEnv & { Variables: RequestVariables };

/** Bearer (or Authentik) auth; refusals are error envelopes (the auth package's default). */
export function conversationalAuth(config: AuthConfig, logger?: AuthLogger): MiddlewareHandler<AuthEnv> {
  return createAuth(config, logger ? { logger } : {});
}

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();

  app.use(requestContext(deps));
  operationalRoutes(app, deps);

  const v1 = new Hono<Env>();
  v1.use(deps.auth);
  v1.post(
    "/v1/conversational",
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 256 * 1024,
      onError: () => {
        throw new BodyTooLargeError("the request body is too large");
      },
    }),
    async (c) => {
      const body = ConversationalRequest.safeParse(await readJsonBody(c, "the turn"));
      if (!body.success) throw new InvalidRequestError(formatIssues(body.error.issues));
      if (body.data.caller !== undefined) {
        throw new InvalidRequestError(
          "caller: not accepted over HTTP; the caller is who the credentials say",
        );
      }
      const caller = c.get("principal").id;
      const request = fromWire(body.data);
      const stream = body.data.stream ?? (c.req.header("accept") ?? "").includes("text/event-stream");
      if (stream) return streamTurn(c, deps, request, caller);
      return c.json(await deps.conversations.turn(request, caller));
    },
  );
  v1.get("/v1/usage", usageHandler(deps.gate));
  app.route("/", v1);

  app.notFound(routeNotFound);
  app.onError(serviceErrorHandler(deps.logger));
  return app;
}

/**
 * A turn as server-sent events: `sentence` events as soon as each sentence is complete, then
 * `done` with the full reply. The response starts with the first sentence, so a turn that fails
 * before saying anything still gets its status code (404, 503…); a failure after that is an
 * `error` event, and the stream ends.
 */
async function streamTurn(
  c: Context<Env>,
  deps: AppDeps,
  request: ReturnType<typeof fromWire>,
  caller: string,
): Promise<Response> {
  const early: string[] = [];
  let deliver: ((sentence: string) => void) | undefined;
  let started!: () => void;
  const firstSentence = new Promise<void>((resolve) => {
    started = resolve;
  });
  const done = deps.conversations.turn(request, caller, {
    onSentence: (sentence) => {
      if (deliver) return deliver(sentence);
      early.push(sentence);
      started();
    },
  });
  await Promise.race([firstSentence, done]);

  return streamSSE(c, async (stream) => {
    let index = 0;
    let written = Promise.resolve();
    const write = (sentence: string) => {
      const data = JSON.stringify({ index: index++, text: sentence });
      written = written.then(() => stream.writeSSE({ event: "sentence", data }));
    };
    for (const sentence of early) write(sentence);
    deliver = write;
    try {
      const reply = await done;
      await written;
      await stream.writeSSE({ event: "done", data: JSON.stringify(reply) });
    } catch (err) {
      await written.catch(() => {});
      const failure = toServiceError(err);
      c.get("log").warn(
        { err, code: failure.code, status: failure.status },
        "turn failed after its stream started",
      );
      await stream.writeSSE({ event: "error", data: JSON.stringify(errorBody(failure)) }).catch(() => {});
    }
  });
}
