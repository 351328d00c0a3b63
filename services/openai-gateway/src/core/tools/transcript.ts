/**
 * Earlier tool rounds of a conversation as the prompt's text shows them. A new job cannot replay
 * calls the model made in another run: they become part of the transcript, marked so they read as
 * a record (`[called get_weather {"city":"Sofia"}]`, `[get_weather result: 12°C]`).
 */

/** A call the model made earlier in the conversation: the tool's name and its arguments as JSON text. */
export interface PastToolCall {
  name: string;
  arguments: string;
}

/** A result the caller gave for an earlier call; `name` is undefined when the call is not in the request. */
export interface PastToolResult {
  name: string | undefined;
  content: string;
  isError?: boolean | undefined;
}

export function renderCall(call: PastToolCall): string {
  return `[called ${call.name} ${compactJson(call.arguments)}]`;
}

export function renderResult(result: PastToolResult): string {
  const content = result.content.trim() === "" ? "(no output)" : result.content;
  return `[${result.name ?? "tool"} ${result.isError ? "error" : "result"}: ${content}]`;
}

/** Arguments on one line when they are JSON (clients may send them pretty-printed); else as sent. */
function compactJson(text: string): string {
  if (text.trim() === "") return "{}";
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text.trim();
  }
}
