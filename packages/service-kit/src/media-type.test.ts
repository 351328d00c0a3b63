import { describe, expect, it } from "vitest";
import { isJsonMediaType } from "./media-type.js";

describe("isJsonMediaType", () => {
  it.each<[string | null | undefined, boolean]>([
    ["application/json", true],
    ["application/json;charset=utf-8", true],
    ["application/json; charset=UTF-8", true],
    ["application/json ; charset=utf-8", true],
    ["APPLICATION/JSON", true],
    ["Application/Json; Charset=utf-8", true],
    ["application/json;", true],
    ["application/json-patch+json", false],
    ["application/merge-patch+json", false],
    ["application/jsonx", false],
    ["application/json5", false],
    ["text/json", false],
    ["text/plain; charset=application/json", false],
    ["text/plain;application/json", false],
    ["application/x-www-form-urlencoded; x=application/json", false],
    ["multipart/form-data; boundary=application/json", false],
    ["application/json, text/plain", false],
    ["application / json", false],
    ["application", false],
    ["", false],
    [" ", false],
    [null, false],
    [undefined, false],
  ])("%j → %s", (header, expected) => {
    expect(isJsonMediaType(header)).toBe(expected);
  });
});
