import { describe, expect, it } from "vitest";
import { userMessage, userMessageInput } from "./user-message.js";

describe("userMessage", () => {
  it("without images: the prompt as the message's string content", () => {
    expect(userMessage("hi")).toEqual({ type: "user", message: { role: "user", content: "hi" } });
    expect(userMessage("hi", [])).toEqual(userMessage("hi"));
  });
  it("with images: one image block each, in order, then the text last", () => {
    const m = userMessage("what differs?", [
      { mediaType: "image/png", data: "AAAA" },
      { mediaType: "image/webp", data: "BBBB" },
    ]);
    expect(m.message.content).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
      { type: "image", source: { type: "base64", media_type: "image/webp", data: "BBBB" } },
      { type: "text", text: "what differs?" },
    ]);
  });
});

describe("userMessageInput", () => {
  it("is the message as one JSON line (prompt text with newlines stays inside it)", () => {
    const input = userMessageInput("line 1\nline 2", [{ mediaType: "image/gif", data: "R0lG" }]);
    expect(input.endsWith("\n")).toBe(true);
    expect(input.split("\n")).toHaveLength(2);
    expect(JSON.parse(input)).toEqual(
      userMessage("line 1\nline 2", [{ mediaType: "image/gif", data: "R0lG" }]),
    );
  });
});
