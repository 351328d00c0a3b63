import { Hono } from "hono";
import { SlackMessage } from "../notify/slack.js";
import { type Listening, listen } from "./serve.js";

export interface FakeSlack {
  /** The full webhook URL (its path is the secret, as with Slack's). */
  webhookUrl: string;
  /** Every message accepted. */
  messages: SlackMessage[];
  close(): Promise<void>;
}

/**
 * A Slack incoming webhook: JSON only (`application/json`), with `text` or `blocks`; answers `ok`.
 * Slack's own error bodies: `invalid_payload`, `no_text`, `no_service` (unknown hook).
 */
export async function startFakeSlack(options: { hookPath?: string } = {}): Promise<FakeSlack> {
  const hookPath = options.hookPath ?? "/services/T000/B000/test-secret";
  const messages: SlackMessage[] = [];
  const app = new Hono();
  app.post("*", async (c) => {
    if (new URL(c.req.url).pathname !== hookPath) return c.text("no_service", 404);
    if (!(c.req.header("content-type") ?? "").startsWith("application/json"))
      return c.text("invalid_payload", 400);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.text("invalid_payload", 400);
    }
    const parsed = SlackMessage.safeParse(body);
    if (!parsed.success) return c.text("no_text", 400);
    messages.push(parsed.data);
    return c.text("ok");
  });
  app.all("*", (c) => c.text("invalid_payload", 400));
  const server: Listening = await listen(app);
  return { webhookUrl: `${server.url}${hookPath}`, messages, close: () => server.close() };
}
