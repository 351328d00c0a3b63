import { z } from "zod";
import { UpstreamHttpError, UpstreamUnreachableError } from "../errors.js";
import type { Fetch } from "../http.js";

/** An incoming-webhook message: `text` (also the notification fallback) and/or Block Kit `blocks`. */
export const SlackMessage = z
  .object({
    text: z.string().min(1).optional(),
    blocks: z
      .array(z.object({ type: z.string() }).loose())
      .min(1)
      .optional(),
  })
  .refine((m) => m.text !== undefined || m.blocks !== undefined, { message: "text or blocks is required" });
export type SlackMessage = z.infer<typeof SlackMessage>;

export interface Alert {
  /** `owner/repo#12: title`. */
  subject: string;
  url: string;
  reason: string;
  details?: string[];
}

/** The doorbell port: how a run gets a human's attention. */
export interface Doorbell {
  ring(alert: Alert): Promise<void>;
}

/** Slack mrkdwn needs `&`, `<`, `>` escaped; everything else is literal. */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function alertMessage(alert: Alert): SlackMessage {
  const lines = [
    `:rotating_light: *AFK needs a human*: <${alert.url}|${slackEscape(alert.subject)}>`,
    `*Why:* ${slackEscape(alert.reason)}`,
    ...(alert.details ?? []).map((d) => slackEscape(d)),
  ];
  return { text: lines.join("\n") };
}

/** A Slack incoming webhook. It answers `ok` (text, not JSON) on success. */
export function createSlackDoorbell(options: {
  webhookUrl: string;
  fetch: Fetch;
  timeoutMs: number;
}): Doorbell {
  return {
    async ring(alert) {
      const body = SlackMessage.parse(alertMessage(alert));
      // The webhook URL is the secret: errors name the path kind only.
      let res: Response;
      try {
        res = await options.fetch(options.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        throw new UpstreamUnreachableError("slack", "POST", "(webhook)", err);
      }
      const text = await res.text().catch(() => "");
      if (!res.ok) throw new UpstreamHttpError("slack", "POST", "(webhook)", res.status, text);
    },
  };
}
