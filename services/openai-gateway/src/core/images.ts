import {
  base64DecodedBytes,
  IMAGE_MEDIA_TYPES,
  type ImageMediaType,
  MAX_IMAGE_BYTES,
  MAX_JOB_IMAGES,
} from "@claude-gateway/contracts";
import { GatewayError, InvalidRequestError } from "./errors.js";

/**
 * Images of a request, as the job carries them: base64 and a media type the Messages API takes.
 * Pure: decoding data URLs and base64, limits, and the allowlist decision for remote URLs. Fetching
 * a remote image is an adapter's (`adapters/image-fetch.ts`).
 */
export interface ImageInput {
  mediaType: ImageMediaType;
  data: string;
}

/** An image the client named by URL; the gateway fetches it only from an allowlisted host. */
export type ImageSource = { kind: "inline"; image: ImageInput } | { kind: "remote"; url: URL };

/** An image of a request, where it was, before it is resolved (decoded or fetched). */
export interface RequestImage {
  source: ImageSource;
  /** Where it was in the request, for errors: `messages[0].content[1].image_url.url`. */
  param: string;
}

/** One image is over `MAX_IMAGE_BYTES` decoded. */
export class ImageTooLargeError extends GatewayError {
  override readonly name = "ImageTooLargeError";
  constructor(param: string, bytes: number) {
    super(`The image in '${param}' is ${bytes} bytes; the limit is ${MAX_IMAGE_BYTES} bytes per image.`, {
      status: 413,
      type: "invalid_request_error",
      code: "image_too_large",
      param,
    });
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL = /^data:([^;,]+)((?:;[^;,=]+=[^;,]*)*);base64,(.*)$/is;

/** Checks an image given as a media type and base64 data; throws a 400/413 naming `param`. */
export function imageFromBase64(mediaType: string, data: string, param: string): ImageInput {
  const type = mediaType.toLowerCase();
  if (!(IMAGE_MEDIA_TYPES as readonly string[]).includes(type)) {
    throw new InvalidRequestError(
      `Images of type '${mediaType.slice(0, 64)}' are not supported; use ${IMAGE_MEDIA_TYPES.join(", ")}.`,
      param,
      "unsupported_image_type",
    );
  }
  const compact = data.replace(/\s+/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new InvalidRequestError(`The image in '${param}' is not valid base64.`, param, "invalid_image");
  }
  const bytes = base64DecodedBytes(compact);
  if (bytes > MAX_IMAGE_BYTES) throw new ImageTooLargeError(param, bytes);
  return { mediaType: type as ImageMediaType, data: compact };
}

/**
 * An image URL as the client sent it: a `data:` URL is decoded; an `http(s)` URL is remote (fetched
 * only from an allowlisted host, see `remoteImageAllowed`); anything else is refused.
 */
export function imageSourceOf(url: string, param: string): ImageSource {
  const data = DATA_URL.exec(url);
  if (data) return { kind: "inline", image: imageFromBase64(data[1] ?? "", data[3] ?? "", param) };
  if (/^data:/i.test(url)) {
    throw new InvalidRequestError(
      `The image in '${param}' is a data URL without base64 data.`,
      param,
      "invalid_image_url",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRequestError(`The image URL in '${param}' is not a URL.`, param, "invalid_image_url");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new InvalidRequestError(
      `Image URLs are data: or http(s): URLs; '${parsed.protocol}' is neither.`,
      param,
      "invalid_image_url",
    );
  }
  if (parsed.username || parsed.password) {
    throw new InvalidRequestError(
      `The image URL in '${param}' carries credentials; refused.`,
      param,
      "invalid_image_url",
    );
  }
  return { kind: "remote", url: parsed };
}

/**
 * Whether a remote image may be fetched: its host (and port, if the entry names one) is on the
 * allowlist (`IMAGE_FETCH_ALLOWLIST`, exact host names; no wildcards). Empty: nothing is fetched,
 * so a client cannot make the gateway reach into the cluster (server-side request forgery).
 */
export function remoteImageAllowed(url: URL, allowlist: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostPort = `${host}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  return allowlist.some((entry) => {
    const e = entry.toLowerCase();
    return e.includes(":") && !e.startsWith("[") ? e === hostPort : e === host;
  });
}

/** The refusal of a remote image whose host is not allowlisted. */
export function imageUrlNotAllowed(url: URL, param: string): InvalidRequestError {
  return new InvalidRequestError(
    `Image URLs are fetched only from allowed hosts, and '${url.hostname}' is not one; send the image as a data URL (base64).`,
    param,
    "image_url_not_allowed",
  );
}

/** Throws a 400 when a request carries more images than a job takes. */
export function checkImageCount(count: number, param: string): void {
  if (count > MAX_JOB_IMAGES) {
    throw new InvalidRequestError(
      `The request has ${count} images; at most ${MAX_JOB_IMAGES} are supported.`,
      param,
      "too_many_images",
    );
  }
}

/** The text that stands for the n-th image (1-based) in a prompt: where the image was in the message. */
export const imageMarker = (n: number) => `[image ${n}]`;
