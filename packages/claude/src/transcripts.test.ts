import { createHash } from "node:crypto";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  sha256File,
  snapshotFile,
  type TranscriptBlobs,
  transcriptStore,
  writeFileAtomic,
} from "./transcripts.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cg-transcripts-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Blobs in memory; `get` of a stored id can be made to fail after its first chunk. */
function memoryBlobs() {
  const stored = new Map<string, Buffer>();
  const b = {
    stored,
    failAfterFirstChunk: false,
    failPut: false,
    async get(sessionId: string) {
      const data = stored.get(sessionId);
      if (!data) return null;
      const half = Math.ceil(data.length / 2);
      return (async function* () {
        yield data.subarray(0, half);
        if (b.failAfterFirstChunk) throw new Error("connection lost");
        yield data.subarray(half);
      })();
    },
    async put(sessionId: string, data: AsyncIterable<Uint8Array>) {
      const chunks: Buffer[] = [];
      for await (const chunk of data) chunks.push(Buffer.from(chunk));
      if (b.failPut) throw new Error("object store down");
      stored.set(sessionId, Buffer.concat(chunks));
    },
  } satisfies TranscriptBlobs & Record<string, unknown>;
  return b;
}

const OLD = '{"turn":1}\n';
const NEW = '{"turn":1}\n{"turn":2}\n';

describe("transcriptStore", () => {
  it("saves a transcript and restores it into a directory that does not exist yet", async () => {
    const blobs = memoryBlobs();
    const store = transcriptStore(blobs);
    const source = join(dir, "a", "s1.jsonl");
    mkdirSync(join(dir, "a"));
    writeFileSync(source, NEW);
    await store.save("s1", source);
    expect(blobs.stored.get("s1")?.toString()).toBe(NEW);

    const target = join(dir, "b", "projects", "-w", "s1.jsonl");
    expect(await store.restore("s1", target)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(NEW);
    expect(readdirSync(join(dir, "b", "projects", "-w"))).toEqual(["s1.jsonl"]);
  });

  it("restore replaces an existing transcript", async () => {
    const blobs = memoryBlobs();
    blobs.stored.set("s1", Buffer.from(NEW));
    const target = join(dir, "s1.jsonl");
    writeFileSync(target, OLD);
    expect(await transcriptStore(blobs).restore("s1", target)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(NEW);
    expect(readdirSync(dir)).toEqual(["s1.jsonl"]);
  });

  it("restore of a session nobody stored: false, nothing written", async () => {
    const target = join(dir, "x", "s1.jsonl");
    expect(await transcriptStore(memoryBlobs()).restore("s1", target)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a transfer that breaks mid-way leaves the old transcript intact and no partial file", async () => {
    const blobs = memoryBlobs();
    blobs.stored.set("s1", Buffer.from(NEW));
    blobs.failAfterFirstChunk = true;
    const target = join(dir, "s1.jsonl");
    writeFileSync(target, OLD);
    await expect(transcriptStore(blobs).restore("s1", target)).rejects.toThrow("connection lost");
    expect(readFileSync(target, "utf8")).toBe(OLD);
    expect(readdirSync(dir)).toEqual(["s1.jsonl"]);
  });

  it("save of a missing file fails before anything is stored", async () => {
    const blobs = memoryBlobs();
    blobs.stored.set("s1", Buffer.from(OLD));
    await expect(transcriptStore(blobs).save("s1", join(dir, "nope.jsonl"))).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(blobs.stored.get("s1")?.toString()).toBe(OLD);
  });

  it("a failed save reports the store's error", async () => {
    const blobs = memoryBlobs();
    blobs.failPut = true;
    const source = join(dir, "s1.jsonl");
    writeFileSync(source, NEW);
    await expect(transcriptStore(blobs).save("s1", source)).rejects.toThrow("object store down");
  });
});

describe("writeFileAtomic", () => {
  it("writes bytes or a stream of chunks", async () => {
    const target = join(dir, "f");
    await writeFileAtomic(target, Buffer.from("bytes"));
    expect(readFileSync(target, "utf8")).toBe("bytes");
    await writeFileAtomic(
      target,
      (async function* () {
        yield Buffer.from("a");
        yield new Uint8Array([98]);
      })(),
    );
    expect(readFileSync(target, "utf8")).toBe("ab");
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  it("a write that fails half-way (disk full) leaves the old file intact and removes the partial one", async () => {
    const target = join(dir, "s1.jsonl");
    writeFileSync(target, OLD);
    let tempPath: string | undefined;
    const failing = (temp: string) => {
      tempPath = temp;
      let written = 0;
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          // The first chunk lands in the temporary file, the second one fails.
          if (written++ > 0) return cb(new Error("ENOSPC: no space left on device"));
          writeFileSync(temp, chunk, { flag: "wx" });
          cb();
        },
      });
    };
    const data = (async function* () {
      yield Buffer.from('{"turn":1}\n');
      yield Buffer.from('{"turn":2}\n');
    })();
    await expect(writeFileAtomic(target, data, { createWriteStream: failing })).rejects.toThrow("ENOSPC");
    expect(tempPath?.startsWith(dir)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(OLD);
    expect(readdirSync(dir)).toEqual(["s1.jsonl"]);
  });

  it("a rename that fails (the target is a directory) removes the temporary file", async () => {
    const target = join(dir, "taken");
    mkdirSync(join(target, "inside"), { recursive: true });
    await expect(writeFileAtomic(target, Buffer.from("x"))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
  });
});

describe("sha256File", () => {
  it("hashes a file; undefined when there is none", async () => {
    const path = join(dir, "f");
    writeFileSync(path, NEW);
    expect(await sha256File(path)).toBe(createHash("sha256").update(NEW).digest("hex"));
    expect(await sha256File(join(dir, "missing"))).toBeUndefined();
  });
});

describe("snapshotFile", () => {
  it("a hidden copy beside the file, and its digest: later writes to the file change neither", async () => {
    const path = join(dir, "session.jsonl");
    writeFileSync(path, OLD);
    const snapshot = await snapshotFile(path);
    // The live CLI goes on writing its transcript.
    appendFileSync(path, '{"turn":2}\n');
    expect(snapshot?.sha256).toBe(createHash("sha256").update(OLD).digest("hex"));
    expect(readFileSync(snapshot!.path, "utf8")).toBe(OLD);
    expect(snapshot!.path.startsWith(join(dir, ".session.jsonl."))).toBe(true);
    expect(snapshot!.path.endsWith(".snapshot")).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".jsonl"))).toEqual(["session.jsonl"]);
  });
  it("undefined when there is no file", async () => {
    expect(await snapshotFile(join(dir, "missing.jsonl"))).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });
});
