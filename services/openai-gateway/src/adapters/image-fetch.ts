import { MAX_IMAGE_BYTES } from "@claude-gateway/contracts";
import { InvalidRequestError } from "../core/errors.js";
import {
  type ImageInput,
  type ImageSource,
  ImageTooLargeError,
  imageFromBase64,
  imageUrlNotAllowed,
  remoteImageAllowed,
} from "../core/images.js";

/** Turns an image the client sent (inline, or a URL) into the image its job carries. */
export type ImageResolver = (source: ImageSource, param: string) => Promise<ImageInput>;

export interface ImageFetchOptions {
  /** `IMAGE_FETCH_ALLOWLIST`: the hosts remote images may come from; empty, none. */
  allowlist: readonly string[];
  /** Default 10 s for the whole download. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Inline images pass as they are; a remote one is fetched only from an allowlisted host, without
 * following redirects (a redirect could lead anywhere), up to `MAX_IMAGE_BYTES`, and only if the
 * server says it is an image of a supported type. Whatever goes wrong is the client's URL: a 400.
 */
export function imageResolver(opts: ImageFetchOptions): ImageResolver {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return async (source, param) => {
    if (source.kind === "inline") return source.image;
    const url = source.url;
    if (!remoteImageAllowed(url, opts.allowlist)) throw imageUrlNotAllowed(url, param);
    const failed = (why: string) =>
      new InvalidRequestError(
        `The image at ${url.origin} could not be fetched: ${why}`,
        param,
        "image_fetch_failed",
      );
    let res: Response;
    try {
      res = await doFetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw failed((err as Error).name === "TimeoutError" ? "it took too long." : "the host did not answer.");
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw failed(
        `it answered ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}.`,
      );
    }
    const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const bytes = await readAtMost(res, MAX_IMAGE_BYTES, param).catch((err: unknown) => {
      if (err instanceof ImageTooLargeError) throw err;
      throw failed("the download broke off.");
    });
    return imageFromBase64(type, bytes.toString("base64"), param);
  };
}

/** The body, refused with a 413 as soon as it passes `max` bytes (declared or counted). */
async function readAtMost(res: Response, max: number, param: string): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new ImageTooLargeError(param, declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > max) {
      await res.body.cancel().catch(() => undefined);
      throw new ImageTooLargeError(param, total);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
