import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { GatewayError } from "./core/errors.js";
import { readJson } from "./http.js";

const app = new Hono();
app.post("/", async (c) => c.json({ got: await readJson(c) }));
app.onError((err, c) => (err instanceof GatewayError ? c.json(err.body(), 400) : c.text("bug", 500)));

describe("readJson", () => {
  it.each<[string, string | undefined, string, number, unknown]>([
    ["JSON", "application/json", '{"a":1}', 200, { got: { a: 1 } }],
    ["JSON with a charset", "application/json; charset=utf-8", '{"a":1}', 200, { got: { a: 1 } }],
    ["JSON in capitals", "APPLICATION/JSON", '{"a":1}', 200, { got: { a: 1 } }],
    [
      "text naming JSON in a parameter",
      "text/plain; charset=application/json",
      '{"a":1}',
      400,
      "unsupported_media_type",
    ],
    ["another JSON format", "application/json-patch+json", "[]", 400, "unsupported_media_type"],
    ["a longer subtype", "application/jsonx", '{"a":1}', 400, "unsupported_media_type"],
    ["a form", "application/x-www-form-urlencoded", "a=1", 400, "unsupported_media_type"],
    ["no content type", undefined, '{"a":1}', 400, "unsupported_media_type"],
    ["broken JSON", "application/json", "{", 400, "invalid_json"],
  ])("%s", async (_n, type, body, status, expected) => {
    // A string body would get `text/plain` from fetch itself; bytes get no content type.
    const res = await app.request("/", {
      method: "POST",
      ...(type ? { body, headers: { "content-type": type } } : { body: new TextEncoder().encode(body) }),
    });
    expect(res.status).toBe(status);
    const answer = await res.json();
    if (typeof expected === "string")
      expect(answer).toMatchObject({ error: { type: "invalid_request_error", code: expected } });
    else expect(answer).toEqual(expected);
  });
});
