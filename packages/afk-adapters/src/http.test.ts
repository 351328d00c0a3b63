import { describe, expect, it } from "vitest";
import { z } from "zod";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "./errors.js";
import { createHttp, type Fetch } from "./http.js";

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
