import { isDeepStrictEqual } from "node:util";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
  type StreamUpdateConfig,
} from "@nats-io/jetstream";
import type { WithRequired } from "@nats-io/nats-core";
import { JetStreamSetupError } from "./errors.js";

export type StreamSpec = WithRequired<Partial<StreamConfig>, "name">;

/** JetStream's "stream name already in use" (another replica created it first). */
const STREAM_NAME_IN_USE = 10058;

/**
 * Creates the stream, or updates it when a field given here differs from what the server has.
 * Safe to call from every replica on every start.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  try {
    const info = await streamInfo(jsm, spec.name);
    if (info !== null) return await updateIfDiffers(jsm, info, spec);
    try {
      // `add` writes into its argument; hand it a copy.
      return await jsm.streams.add({ ...spec });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
      return await updateIfDiffers(jsm, await jsm.streams.info(spec.name), spec);
    }
  } catch (err) {
    throw new JetStreamSetupError("stream", spec.name, { cause: err });
  }
}

/** For streams a client library created (KV, object store): bring the fields in `spec` up to date. */
export async function reconcileStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  return updateIfDiffers(jsm, await jsm.streams.info(spec.name), spec);
}

async function updateIfDiffers(
  jsm: JetStreamManager,
  info: StreamInfo,
  spec: StreamSpec,
): Promise<StreamInfo> {
  const { name, ...wanted } = spec;
  if (!configDiffers(info.config, wanted)) return info;
  // Immutable fields (retention, storage) are sent too: the server's refusal says what is wrong.
  return jsm.streams.update(name, wanted as Partial<StreamUpdateConfig>);
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw err;
  }
}

/** True when a field set in `wanted` has another value in `current`; unset fields are left alone. */
export function configDiffers(current: object, wanted: object): boolean {
  const have = current as Record<string, unknown>;
  return Object.entries(wanted).some(
    ([key, value]) => value !== undefined && !isDeepStrictEqual(have[key], value),
  );
}
