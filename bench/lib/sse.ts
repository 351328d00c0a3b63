/** One server-sent event: its name (`message` when unnamed) and its `data` lines, joined. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A whole SSE body as its events; comments (`: keep-alive`) and empty blocks are dropped. */
export function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of body.replace(/\r\n/g, "\n").split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
    if (data.length === 0) continue;
    const event =
      lines
        .find((l) => l.startsWith("event:"))
        ?.slice(6)
        .trim() ?? "message";
    events.push({ event, data: data.join("\n") });
  }
  return events;
}
