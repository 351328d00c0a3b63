import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamNotJsonError,
  UpstreamUnreachableError,
} from "./errors.js";
import { createHttp, type Fetch, parseContract } from "./http.js";

const respond =
  (status: number, body: string): Fetch =>
  async () =>
    new Response(body, { status });

function http(fetch: Fetch, timeoutMs = 5000) {
  return createHttp({
    system: "github",
    baseUrl: "http://x",
    fetch,
    headers: { authorization: "Bearer secret" },
    timeoutMs,
  });
}

describe("http", () => {
  it("parses a 2xx body with the schema", async () => {
    expect(await http(respond(200, '{"a":1}')).json("GET", "/p", z.object({ a: z.number() }))).toEqual({
      a: 1,
    });
  });

  it.each([
    ["a non-2xx status", respond(500, "boom"), UpstreamHttpError],
    ["a body outside the contract", respond(200, '{"a":"x"}'), UpstreamContractError],
    ["a body that is not JSON", respond(200, "<html>"), UpstreamContractError],
    [
      "an unreachable server",
      (async () => {
        throw new TypeError("fetch failed");
      }) as Fetch,
      UpstreamUnreachableError,
    ],
  ])("%s is a named error", async (_, fetch, kind) => {
    const err = await http(fetch)
      .json("GET", "/p", z.object({ a: z.number() }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(kind);
    expect(err.message).not.toContain("secret");
  });

  it("a body outside the contract names the call and each field in words, never a zod dump", async () => {
    const schema = z.object({
      thread: z.object({
        state: z.enum(["running", "completed"]),
        at: z.iso.datetime(),
        id: z.string(),
        n: z.number(),
      }),
    });
    const body = JSON.stringify({ thread: { state: "pending", at: "yesterday", n: "1" } });
    const err = await http(respond(200, body))
      .json("GET", "/threads/abc", schema)
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamContractError);
    expect(err).toMatchObject({ method: "GET", path: "/threads/abc" });
    expect(err.issues).toEqual([
      "thread.state: expected one of running|completed",
      "thread.at: not a valid datetime",
      "thread.id: missing (expected string)",
      "thread.n: expected number, received string",
    ]);
    expect(err.message).toBe(
      `github: GET /threads/abc answered outside the contract: ${err.issues.join("; ")}`,
    );
  });

  it("a body that is not JSON is its own named contract error, with the content type and the start", async () => {
    const page: Fetch = async () =>
      new Response("<!doctype html>\n<html><body>app</body></html>", {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    const err = await http(page)
      .json("GET", "/threads/abc", z.object({}))
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamNotJsonError);
    expect(err).toBeInstanceOf(UpstreamContractError);
    expect(err.message).toBe(
      "github: GET /threads/abc answered outside the contract: body is not JSON (text/html; charset=utf-8): <!doctype html> <html><body>app</body></html>",
    );
  });

  it("parseContract places a value inside its body", () => {
    expect(() =>
      parseContract({ system: "t3", method: "GET", path: "/snapshot" }, z.object({ id: z.string() }), {}, [
        "threads",
        2,
      ]),
    ).toThrow("t3: GET /snapshot answered outside the contract: threads.2.id: missing (expected string)");
  });

  it("a server that does not answer in time is unreachable", async () => {
    const hang: Fetch = (_url, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    await expect(http(hang, 1).send("GET", "/p")).rejects.toBeInstanceOf(UpstreamUnreachableError);
  });

  it("jsonOrNull: 404 is null", async () => {
    expect(await http(respond(404, "")).jsonOrNull("GET", "/p", z.object({}))).toBeNull();
  });

  it("send accepts the listed extra statuses only", async () => {
    await expect(http(respond(404, "")).send("DELETE", "/p", { okStatuses: [404] })).resolves.toBeUndefined();
    await expect(http(respond(409, "")).send("DELETE", "/p", { okStatuses: [404] })).rejects.toBeInstanceOf(
      UpstreamHttpError,
    );
  });

  it("sends JSON bodies with the content type, and the fixed headers", async () => {
    let seen: RequestInit | undefined;
    const capture: Fetch = async (_u, init) => {
      seen = init;
      return new Response("{}", { status: 200 });
    };
    await http(capture).send("POST", "/p", { body: { x: 1 }, query: { a: "b c", skip: undefined } });
    expect(seen?.headers).toMatchObject({
      "content-type": "application/json",
      authorization: "Bearer secret",
    });
    expect(seen?.body).toBe('{"x":1}');
  });
});
