import { MAX_IMAGE_BYTES } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import {
  checkImageCount,
  ImageTooLargeError,
  imageFromBase64,
  imageSourceOf,
  remoteImageAllowed,
} from "./images.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function codeOf(f: () => unknown): string | null | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string | null }).code;
  }
  return undefined;
}

describe("imageFromBase64", () => {
  it("keeps a supported image, its type lower-cased and whitespace removed", () => {
    expect(imageFromBase64("IMAGE/PNG", `${PNG.slice(0, 8)}\n${PNG.slice(8)}`, "p")).toEqual({
      mediaType: "image/png",
      data: PNG,
    });
  });
  it.each([
    ["an unsupported type", "image/bmp", PNG, "unsupported_image_type"],
    ["svg (scripts)", "image/svg+xml", PNG, "unsupported_image_type"],
    ["empty data", "image/png", "", "invalid_image"],
    ["not base64", "image/png", "not base64!", "invalid_image"],
    ["a length that is not a multiple of 4", "image/png", "QUJDR", "invalid_image"],
  ])("refuses %s", (_name, type, data, code) => {
    expect(codeOf(() => imageFromBase64(type, data, "p"))).toBe(code);
  });
  it("refuses an image over the limit with a 413, and takes one at it", () => {
    const at = "A".repeat(Math.floor(MAX_IMAGE_BYTES / 3) * 4);
    expect(imageFromBase64("image/png", at, "p").data).toBe(at);
    const over = "A".repeat((Math.floor(MAX_IMAGE_BYTES / 3) + 1) * 4);
    expect(() => imageFromBase64("image/png", over, "p")).toThrow(ImageTooLargeError);
    expect(codeOf(() => imageFromBase64("image/png", over, "p"))).toBe("image_too_large");
  });
});

describe("imageSourceOf", () => {
  it("decodes a data URL", () => {
    expect(imageSourceOf(`data:image/png;base64,${PNG}`, "p")).toEqual({
      kind: "inline",
      image: { mediaType: "image/png", data: PNG },
    });
    expect(imageSourceOf(`data:image/jpeg;name=x.jpg;base64,${PNG}`, "p")).toMatchObject({
      image: { mediaType: "image/jpeg" },
    });
  });
  it("names a remote URL without fetching it", () => {
    const source = imageSourceOf("https://img.example/cat.png", "p");
    expect(source.kind).toBe("remote");
  });
  it.each([
    ["a data URL without base64", "data:image/png,rawbytes", "invalid_image_url"],
    ["a file URL", "file:///etc/passwd", "invalid_image_url"],
    ["gopher", "gopher://x/", "invalid_image_url"],
    ["credentials in the URL", "https://u:p@img.example/x.png", "invalid_image_url"],
    ["not a URL", "cat.png", "invalid_image_url"],
  ])("refuses %s", (_name, url, code) => {
    expect(codeOf(() => imageSourceOf(url, "p"))).toBe(code);
  });
});

describe("remoteImageAllowed", () => {
  const allow = ["img.example", "cdn.example:8443"];
  it.each([
    ["https://img.example/a.png", true],
    ["http://IMG.example/a.png", true],
    ["https://img.example:9999/a.png", true],
    ["https://cdn.example:8443/a.png", true],
    ["https://cdn.example/a.png", false],
    ["https://evil.example/a.png", false],
    ["https://img.example.evil.example/a.png", false],
    ["http://169.254.169.254/latest/meta-data", false],
    ["http://localhost:4222/", false],
  ])("%s → %s", (url, allowed) => {
    expect(remoteImageAllowed(new URL(url), allow)).toBe(allowed);
  });
  it("allows nothing by default", () => {
    expect(remoteImageAllowed(new URL("https://img.example/a.png"), [])).toBe(false);
  });
});

describe("checkImageCount", () => {
  it("takes up to 20 images", () => {
    expect(() => checkImageCount(20, "messages")).not.toThrow();
    expect(codeOf(() => checkImageCount(21, "messages"))).toBe("too_many_images");
  });
});
