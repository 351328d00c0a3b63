import { describe, expect, it } from "vitest";
import { agentAndModelOf, keyOf, prewarmKeyOf, shortfall, touchKey } from "./prewarm.js";

const noTools = { name: "assistant", profile: "no-tools" as const };

describe("prewarmKeyOf", () => {
  it("a stateless job of a no-tools agent: its agent and model", () => {
    expect(prewarmKeyOf({}, noTools, "claude-haiku-4-5")).toBe(keyOf("assistant", "claude-haiku-4-5"));
    expect(agentAndModelOf(keyOf("assistant", "claude-haiku-4-5"))).toEqual({
      agent: "assistant",
      model: "claude-haiku-4-5",
    });
  });
  it("never a job with a repository, a session, or an agent with tools", () => {
    expect(prewarmKeyOf({ repo: "https://example.test/r.git" }, noTools, "m")).toBeUndefined();
    expect(prewarmKeyOf({ session: { kind: "new" } }, noTools, "m")).toBeUndefined();
    expect(
      prewarmKeyOf({ session: { kind: "resume", id: "0b3c4f4e-9a59-4c51-8a43-2f1c8d2f7a10" } }, noTools, "m"),
    ).toBeUndefined();
    expect(prewarmKeyOf({}, { name: "general", profile: "tools" }, "m")).toBeUndefined();
  });
  it("never a job with a JSON schema (a process flag); images are no obstacle (they go in the turn)", () => {
    expect(prewarmKeyOf({ jsonSchema: { type: "object" } }, noTools, "m")).toBeUndefined();
    // A prewarmed process hosts no caller's tools.
    expect(prewarmKeyOf({ tools: [{ name: "t", inputSchema: {} }] }, noTools, "m")).toBeUndefined();
    expect(
      prewarmKeyOf(
        { images: [{ mediaType: "image/png", data: "iVBORw0KGgo=" }] } as Parameters<typeof prewarmKeyOf>[0],
        noTools,
        "m",
      ),
    ).toBe(keyOf("assistant", "m"));
  });
});

describe("touchKey and shortfall", () => {
  it("keeps the most recently used keys, at most max", () => {
    expect(touchKey(["a", "b"], "c", 2)).toEqual(["c", "a"]);
    expect(touchKey(["a", "b"], "b", 3)).toEqual(["b", "a"]);
    expect(touchKey(["a"], "b", 0)).toEqual([]);
  });
  it("tops each key up to the size, most recent first, within the room", () => {
    expect(shortfall(new Map([["a", 1]]), ["a", "b"], 2, 9)).toEqual(["a", "b", "b"]);
    expect(shortfall(new Map(), ["a", "b"], 2, 3)).toEqual(["a", "a", "b"]);
    expect(shortfall(new Map([["a", 2]]), ["a"], 2, 9)).toEqual([]);
    expect(shortfall(new Map(), ["a"], 0, 9)).toEqual([]);
  });
});
