import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageSourceOf } from "../core/images.js";
import { imageResolver } from "./image-fetch.js";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** A real HTTP server on loopback: images, a redirect, an error, an HTML page, a huge body. */
let server: Server;
let base: string;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/cat.png") return res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    if (req.url === "/moved") return res.writeHead(302, { location: "http://169.254.169.254/" }).end();
    if (req.url === "/page") return res.writeHead(200, { "content-type": "text/html" }).end("<html>");
    if (req.url === "/huge") {
      res.writeHead(200, { "content-type": "image/png" });
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 6; i++) res.write(chunk);
      return res.end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

describe("imageResolver", () => {
  const allowed = imageResolver({ allowlist: ["127.0.0.1"] });

  it("passes inline images through without any request", async () => {
    const before = hits.length;
    const image = await allowed(imageSourceOf(`data:image/png;base64,${PNG.toString("base64")}`, "p"), "p");
    expect(image).toEqual({ mediaType: "image/png", data: PNG.toString("base64") });
    expect(hits.length).toBe(before);
  });

  it("fetches an image from an allowlisted host", async () => {
    expect(await allowed(imageSourceOf(`${base}/cat.png`, "p"), "p")).toEqual({
      mediaType: "image/png",
      data: PNG.toString("base64"),
    });
  });

  it("never contacts a host that is not allowlisted (nothing is by default)", async () => {
    const before = hits.length;
    const closed = imageResolver({ allowlist: [] });
    expect(await codeOf(closed(imageSourceOf(`${base}/cat.png`, "p"), "p"))).toBe("image_url_not_allowed");
    expect(hits.length).toBe(before);
  });

  it.each([
    ["a redirect (not followed)", "/moved", "image_fetch_failed"],
    ["a 404", "/missing", "image_fetch_failed"],
    ["something that is not an image", "/page", "unsupported_image_type"],
    ["an image over the limit", "/huge", "image_too_large"],
  ])("refuses %s", async (_name, path, code) => {
    expect(await codeOf(allowed(imageSourceOf(`${base}${path}`, "p"), "p"))).toBe(code);
  });

  it("refuses a host that does not answer", async () => {
    const resolver = imageResolver({ allowlist: ["127.0.0.1:1"] });
    expect(await codeOf(resolver(imageSourceOf("http://127.0.0.1:1/x.png", "p"), "p"))).toBe(
      "image_fetch_failed",
    );
  });
});
