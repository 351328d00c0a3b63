import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Session transcripts kept off the pod, so `--resume` works on any replica. */
export interface TranscriptStore {
  /**
   * Writes the stored transcript to `path` (creating its directory) in one step: the file is the
   * old one or the whole new one, never half of it. False if none is stored.
   */
  restore(sessionId: string, path: string): Promise<boolean>;
  /** Stores the transcript at `path` under the session id. */
  save(sessionId: string, path: string): Promise<void>;
}

/**
 * The bytes of stored transcripts by session id (a NATS object store in production; see
 * `natsTranscriptBlobs` in @claude-gateway/nats).
 */
export interface TranscriptBlobs {
  /** Null if none is stored. Iterating throws if the transfer fails or the bytes are corrupt. */
  get(sessionId: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Replaces what is stored; a failed put leaves the previous transcript stored. */
  put(sessionId: string, data: AsyncIterable<Uint8Array>): Promise<void>;
}

/** The one save/restore of session transcripts: local files on one side, blobs on the other. */
export function transcriptStore(blobs: TranscriptBlobs): TranscriptStore {
  return {
    async restore(sessionId, path) {
      const data = await blobs.get(sessionId);
      if (!data) return false;
      await writeFileAtomic(path, data);
      return true;
    },
    async save(sessionId, path) {
      // Opened first, so a missing file fails here, not in the middle of an upload.
      const file = await open(path, "r");
      try {
        await blobs.put(sessionId, file.createReadStream({ autoClose: false }));
      } finally {
        await file.close();
      }
    },
  };
}

export interface WriteFileAtomicOptions {
  /** The stream the temporary file is written through (tests make it fail). */
  createWriteStream?: (tempPath: string) => Writable;
}

/**
 * Writes `data` to a temporary file beside `path`, flushes it to disk, then renames it over `path`:
 * a reader (the CLI) sees the old file or the complete new one. On failure the temporary file is
 * removed and `path` is untouched; a crash leaves at most a `*.partial` file beside it.
 */
export async function writeFileAtomic(
  path: string,
  data: AsyncIterable<Uint8Array> | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  // Same directory, so the rename never crosses a filesystem.
  const temp = join(dir, `.${basename(path)}.${randomUUID()}.partial`);
  const openTemp =
    opts.createWriteStream ?? ((p: string) => createWriteStream(p, { flags: "wx", flush: true }));
  try {
    // A lone buffer goes in an array: iterated itself, it would yield numbers.
    await pipeline(data instanceof Uint8Array ? [data] : data, openTemp(temp));
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** SHA-256 (hex) of a file, or undefined if it does not exist. */
export async function sha256File(path: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return hash.digest("hex");
}

/** A copy of a file taken at one moment, and its digest. */
export interface FileSnapshot {
  path: string;
  sha256: string;
}

/**
 * Copies a transcript, as it is now, to a hidden file beside it (not `*.jsonl`: the CLI never reads
 * it) and digests the copy: what a record names and what is uploaded are then the same bytes, even
 * while a live CLI goes on writing the original. Undefined if there is no transcript. The caller
 * removes the copy.
 */
export async function snapshotFile(path: string): Promise<FileSnapshot | undefined> {
  const copy = join(dirname(path), `.${basename(path)}.${randomUUID()}.snapshot`);
  try {
    await copyFile(path, copy);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const sha256 = await sha256File(copy);
  if (sha256 === undefined) throw new Error(`the snapshot ${copy} vanished`);
  return { path: copy, sha256 };
}
