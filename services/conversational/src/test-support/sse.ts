/** One SSE event block (the text between blank lines): its `event` name and its `data` as JSON. */
export function parseSseBlock(block: string): { event: string; data: unknown } {
  const lines = block.split("\n");
  const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
  const data = lines
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6))
    .join("\n");
  return { event, data: JSON.parse(data) };
}
