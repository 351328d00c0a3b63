import { MAX_IMAGE_BYTES } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import {
  base64Chars,
  imageDataProblem,
  imageFormatOf,
  imagesProblem,
  jobImageObject,
  MAX_JOB_IMAGES_BYTES,
} from "./images.js";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00", "latin1");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([36, 0, 0, 0]), Buffer.from("WEBPVP8 ")]);
/** Base64 of an image of that format padded to `bytes` bytes. */
const b64 = (head: Buffer, bytes = head.length) =>
  Buffer.concat([head, Buffer.alloc(Math.max(0, bytes - head.length))]).toString("base64");

describe("base64 sizes", () => {
  it("base64Chars is the padded length of that many bytes", () => {
    expect([0, 1, 2, 3, 4].map(base64Chars)).toEqual([0, 4, 4, 4, 8]);
    expect(base64Chars(MAX_IMAGE_BYTES)).toBe(Buffer.alloc(MAX_IMAGE_BYTES).toString("base64").length);
  });
});

describe("imageFormatOf", () => {
  it.each([
    [PNG, "image/png"],
    [JPEG, "image/jpeg"],
    [GIF, "image/gif"],
    [Buffer.from("GIF87a", "latin1"), "image/gif"],
    [WEBP, "image/webp"],
  ] as const)("knows %s", (bytes, type) => {
    expect(imageFormatOf(bytes)).toBe(type);
  });
  it.each([
    ["text", Buffer.from("hello, world")],
    ["RIFF of another kind", Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WAVE")])],
    ["a PNG cut short", PNG.subarray(0, 4)],
    ["nothing", Buffer.alloc(0)],
  ])("no image: %s", (_name, bytes) => {
    expect(imageFormatOf(bytes)).toBeUndefined();
  });
});

describe("imageDataProblem", () => {
  it("accepts each format, whatever the type declared with it (the CLI sends the one its bytes say)", () => {
    for (const head of [PNG, JPEG, GIF, WEBP]) expect(imageDataProblem(b64(head, 100))).toBeUndefined();
  });
  it("refuses what is no image, unpadded base64, and more than MAX_IMAGE_BYTES decoded", () => {
    expect(imageDataProblem(Buffer.from("not an image").toString("base64"))).toMatchObject({
      code: "invalid_image",
    });
    expect(imageDataProblem(b64(PNG, 13).replace(/=+$/, ""))).toMatchObject({ code: "invalid_image" });
    expect(imageDataProblem("iVBO*w0K")).toMatchObject({ code: "invalid_image" });
    expect(imageDataProblem(b64(PNG, MAX_IMAGE_BYTES))).toBeUndefined();
    expect(imageDataProblem(b64(PNG, MAX_IMAGE_BYTES + 1))).toMatchObject({
      code: "image_too_large",
      message: expect.stringContaining(`${MAX_IMAGE_BYTES + 1} bytes`),
    });
  });
});

describe("imagesProblem", () => {
  const own = { caller: "tok_a", admitted: true };
  const ref = (object: string, bytes = 100) => ({ mediaType: "image/png" as const, ref: { object, bytes } });
  it("none, or valid inline images: no problem", () => {
    expect(imagesProblem(undefined, own)).toBeUndefined();
    expect(
      imagesProblem([{ mediaType: "image/png", data: b64(PNG, 50) }], { caller: "tok_a", admitted: false }),
    ).toBeUndefined();
  });
  it("a reference only from the gateway (admitted), and only under the caller's own incoming prefix", () => {
    expect(imagesProblem([ref("incoming/tok_a/u1")], own)).toBeUndefined();
    for (const [images, ctx] of [
      [[ref("incoming/tok_a/u1")], { caller: "tok_a", admitted: false }],
      [[ref("incoming/tok_b/u1")], own],
      [[ref("jobs/other/prompt")], own],
    ] as const) {
      expect(imagesProblem(images, ctx)).toMatchObject({
        code: "image_ref_not_allowed",
        path: "images.0.ref",
      });
    }
  });
  it("a reference's size is bounded by the base64 of MAX_IMAGE_BYTES", () => {
    expect(imagesProblem([ref("incoming/tok_a/u", base64Chars(MAX_IMAGE_BYTES))], own)).toBeUndefined();
    expect(imagesProblem([ref("incoming/tok_a/u", base64Chars(MAX_IMAGE_BYTES) + 4)], own)).toMatchObject({
      code: "image_too_large",
      path: "images.0.ref",
    });
  });
  it("names the first bad image's path", () => {
    const images = [
      { mediaType: "image/png" as const, data: b64(PNG, 50) },
      { mediaType: "image/png" as const, data: Buffer.from("nope").toString("base64") },
    ];
    expect(imagesProblem(images, own)).toMatchObject({ code: "invalid_image", path: "images.1.data" });
  });
  it("all of a job's images together at most MAX_JOB_IMAGES_BYTES", () => {
    const n = Math.floor(MAX_JOB_IMAGES_BYTES / MAX_IMAGE_BYTES) + 1;
    const images = Array.from({ length: n }, (_, i) =>
      ref(`incoming/tok_a/${i}`, base64Chars(MAX_IMAGE_BYTES)),
    );
    expect(imagesProblem(images.slice(0, n - 1), own)).toBeUndefined();
    expect(imagesProblem(images, own)).toMatchObject({ code: "images_too_large", path: "images" });
  });
});

describe("jobImageObject", () => {
  it("names a job's image under the job's objects", () => {
    expect(jobImageObject("j1", 3)).toBe("jobs/j1/images/3");
  });
});
