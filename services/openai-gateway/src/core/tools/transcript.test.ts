import { describe, expect, it } from "vitest";
import { renderCall, renderResult } from "./transcript.js";

describe("renderCall", () => {
  it.each([
    ["compact JSON as it is", '{"city":"Sofia"}', '[called get_weather {"city":"Sofia"}]'],
    ["pretty-printed JSON on one line", '{\n  "city": "Sofia"\n}', '[called get_weather {"city":"Sofia"}]'],
    ["no arguments as an empty object", "", "[called get_weather {}]"],
    ["text that is not JSON as sent, trimmed", " city=Sofia ", "[called get_weather city=Sofia]"],
  ])("%s", (_name, args, expected) => {
    expect(renderCall({ name: "get_weather", arguments: args })).toBe(expected);
  });
});

describe("renderResult", () => {
  it.each<[string, Parameters<typeof renderResult>[0], string]>([
    ["a result", { name: "get_weather", content: "12°C" }, "[get_weather result: 12°C]"],
    ["an error", { name: "get_weather", content: "timeout", isError: true }, "[get_weather error: timeout]"],
    ["not an error", { name: "f", content: "x", isError: false }, "[f result: x]"],
    ["a call not in the request", { name: undefined, content: "12°C" }, "[tool result: 12°C]"],
    ["an empty result", { name: "f", content: "  " }, "[f result: (no output)]"],
    ["several lines as they are", { name: "f", content: "a\nb" }, "[f result: a\nb]"],
  ])("%s", (_name, result, expected) => {
    expect(renderResult(result)).toBe(expected);
  });
});
