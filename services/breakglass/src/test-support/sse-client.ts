import { readSse } from "../../ui/src/lib/sse.js";
import type { ChatEvent } from "../core/wire.js";

export interface ReceivedEvent {
  id: number;
  event: ChatEvent;
}

/**
 * Reads a chat SSE response to its end (the `done` event or the stream's close). `hangUpAfter`
 * drops the connection after the first event it accepts, as a phone losing its network would.
 */
export async function readTurn(
  res: Response,
  opts: { hangUpAfter?: (e: ReceivedEvent) => boolean; onEvent?: (e: ReceivedEvent) => void } = {},
): Promise<ReceivedEvent[]> {
  if (!res.body) throw new Error(`no body (status ${res.status})`);
  const out: ReceivedEvent[] = [];
  let hungUp = false;
  for await (const m of readSse(res.body)) {
    const event = JSON.parse(m.data) as ChatEvent;
    if (event.type !== m.event) throw new Error(`event ${m.event} carries type ${event.type}`);
    const item = { id: Number(m.id), event };
    out.push(item);
    opts.onEvent?.(item);
    if (event.type === "done") break;
    if (opts.hangUpAfter?.(item)) {
      hungUp = true;
      break;
    }
  }
  if (hungUp) await res.body.cancel();
  return out;
}

export const kinds = (events: ReceivedEvent[]) =>
  events.map(({ event: e }) => (e.type === "tool" ? `tool:${e.phase}` : e.type));
