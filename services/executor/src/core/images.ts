import {
  base64DecodedBytes,
  type ImageMediaType,
  type JobImage,
  MAX_IMAGE_BYTES,
  payloadObjects,
} from "@claude-gateway/contracts";

/**
 * A job's images: what a submission may carry, and what the executor checks before anything is
 * queued or run. Decisions only; reading and storing them is the service's and the job runner's.
 */

/**
 * All images of one job, decoded, at most. They reach the CLI in one stdin line, which in
 * Kubernetes crosses the runner socket whose lines are capped at 64 MiB (the base64 of 32 MiB is
 * ~43 MiB, with room for the prompt).
 */
export const MAX_JOB_IMAGES_BYTES = 32 * 1024 * 1024;

/** The length of the (padded) base64 of `bytes` bytes. */
export function base64Chars(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The image format its first bytes say (the Messages API's four), or undefined. The CLI itself
 * sends a recognised image under the type its bytes say, whatever the declared one (so a
 * mismatch is harmless), but replaces bytes it cannot read with a text note and runs on: the
 * model would answer without the image, so such data is refused before it gets there.
 */
export function imageFormatOf(bytes: Uint8Array): ImageMediaType | undefined {
  const at = (i: number, ...values: number[]) => values.every((v, k) => bytes[i + k] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (at(4, 0x37, 0x61) || at(4, 0x39, 0x61))) return "image/gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  return undefined;
}

export interface ImageIssue {
  code: "image_ref_not_allowed" | "image_too_large" | "images_too_large" | "invalid_image";
  /** Where in the submission (`images.2.data`). */
  path: string;
  message: string;
}

/** What is wrong with an image's base64 text (its size, its encoding, its bytes), if anything. */
export function imageDataProblem(data: string): Omit<ImageIssue, "path"> | undefined {
  if (data.length % 4 !== 0 || !BASE64.test(data)) {
    return { code: "invalid_image", message: "not padded base64 (standard alphabet)" };
  }
  const bytes = base64DecodedBytes(data);
  if (bytes > MAX_IMAGE_BYTES) {
    return {
      code: "image_too_large",
      message: `the image takes ${bytes} bytes; at most ${MAX_IMAGE_BYTES} per image`,
    };
  }
  // 16 bytes tell the four formats apart (WebP's tag is at 8–11).
  if (imageFormatOf(Buffer.from(data.slice(0, 24), "base64")) === undefined) {
    return { code: "invalid_image", message: "not a PNG, JPEG, GIF or WebP image (by its bytes)" };
  }
  return undefined;
}

/**
 * The first problem of a submission's images, or undefined. A `ref` is the gateway's alone (on
 * its admit subject, `admitted`) and only under the caller's own incoming prefix, as `promptRef`
 * is: otherwise a caller could run another job's stored object, or read it back as a reply. A
 * ref's data is read only when the job runs; its size is bounded now by what its base64 takes.
 */
export function imagesProblem(
  images: readonly JobImage[] | undefined,
  ctx: { caller: string; admitted: boolean },
): ImageIssue | undefined {
  let total = 0;
  for (const [i, image] of (images ?? []).entries()) {
    if (image.ref !== undefined) {
      const path = `images.${i}.ref`;
      if (!ctx.admitted || !image.ref.object.startsWith(payloadObjects.incomingPrefix(ctx.caller))) {
        return {
          code: "image_ref_not_allowed",
          path,
          message: "an image by reference is set by the gateway only",
        };
      }
      if (image.ref.bytes > base64Chars(MAX_IMAGE_BYTES)) {
        return {
          code: "image_too_large",
          path,
          message: `the image's base64 takes ${image.ref.bytes} bytes; at most ${base64Chars(MAX_IMAGE_BYTES)} (${MAX_IMAGE_BYTES} bytes decoded)`,
        };
      }
      total += Math.floor((image.ref.bytes * 3) / 4);
    } else if (image.data !== undefined) {
      const problem = imageDataProblem(image.data);
      if (problem) return { ...problem, path: `images.${i}.data` };
      total += base64DecodedBytes(image.data);
    }
  }
  if (total > MAX_JOB_IMAGES_BYTES) {
    return {
      code: "images_too_large",
      path: "images",
      message: `the job's images take ${total} bytes; at most ${MAX_JOB_IMAGES_BYTES} in all`,
    };
  }
  return undefined;
}

/** Where the executor keeps a job's inline image when the record would be too large with it. */
export function jobImageObject(jobId: string, index: number): string {
  return `jobs/${jobId}/images/${index}`;
}
