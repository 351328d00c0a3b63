import { randomInt } from "node:crypto";
import { deflateSync } from "node:zlib";
import {
  imageBlocksOf,
  lastUserBlocks,
  lastUserText,
  messagesText,
  promptTooLong,
  text,
} from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClaudePromptTooLongError,
  type ImageInput,
  type Invocation,
  type RunOptions,
  runClaude,
  startWarm,
  type WarmProcess,
} from "../src/index.js";
import { failure } from "./support/failure.js";

// What a run's input can carry with the pinned CLI: images as content blocks before the prompt
// (one stream-json user message on stdin of a `-p` run, and a warm turn), a prompt longer than
// the model's context, and a forking resume.
const world = useClaudeWorld({ workPrefix: "cg-facts-in-" });
const warmed: WarmProcess[] = [];
afterEach(async () => {
  await Promise.all(warmed.splice(0).map((p) => p.close()));
});

const inv = (over: Partial<Invocation> = {}): Invocation =>
  ({
    profile: { kind: "no-tools" },
    session: { kind: "ephemeral" },
    output: "stream-json",
    ...over,
  }) as Invocation;
const run = (over: Partial<RunOptions> = {}) =>
  runClaude({
    invocation: inv(),
    prompt: "What is in these pictures?",
    cwd: world.work.dir,
    timeoutMs: 60_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...over,
  });

/** A valid RGB PNG of `w`×`h` pixels: a gradient, or (`noise`) incompressible, ≈ 3·w·h bytes. */
function png(w: number, h: number, noise = false): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w * 3; x++) raw[y * (w * 3 + 1) + 1 + x] = noise ? randomInt(256) : (x + y) & 0xff;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: noise ? 0 : 6 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
const GIF_1PX = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

describe("images before the prompt", () => {
  it("a -p run: one stream-json user message on stdin; the API gets the image blocks verbatim, then the text", async () => {
    world.stub.enqueue(text("a gradient and a dot"));
    const images: ImageInput[] = [
      { mediaType: "image/png", data: png(64, 32).toString("base64") },
      { mediaType: "image/gif", data: GIF_1PX },
    ];
    const r = run({ images });
    expect(r.args.join(" ")).toContain("--input-format stream-json");
    const out = await r.done;
    expect(out.text).toBe("a gradient and a dot");
    const [req] = world.stub.turnRequests();
    expect(imageBlocksOf(req!.body)).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: images[0]!.data } },
      { type: "image", source: { type: "base64", media_type: "image/gif", data: GIF_1PX } },
    ]);
    expect(lastUserBlocks(req!.body).at(-1)).toMatchObject({
      type: "text",
      text: "What is in these pictures?",
    });
  });

  it("without images the prompt still goes as plain text (no --input-format)", async () => {
    world.stub.enqueue(text("plain"));
    const r = run({ images: [] });
    expect(r.args).not.toContain("--input-format");
    await r.done;
    expect(lastUserText(world.stub.turnRequests()[0]!.body)).toContain("What is in these pictures?");
  });

  it("the CLI looks at the bytes: a longer side over 2000 px is scaled down, a wrong media type corrected, non-image bytes replaced by a note", async () => {
    world.stub.setDefault(text("ok"));
    const wide = png(2400, 60).toString("base64");
    const small = png(8, 8).toString("base64");
    const notImage = Buffer.from("just some text, not an image").toString("base64");
    await run({
      images: [
        { mediaType: "image/png", data: wide },
        { mediaType: "image/jpeg", data: small },
        { mediaType: "image/png", data: notImage },
      ],
    }).done;
    const [req] = world.stub.turnRequests();
    const blocks = lastUserBlocks(req!.body);
    const sent = imageBlocksOf(req!.body);
    expect(sent).toHaveLength(2);
    const scaled = Buffer.from(sent[0]!.source.data, "base64");
    expect(sent[0]!.source.data).not.toBe(wide);
    expect([scaled.readUInt32BE(16), scaled.readUInt32BE(20)]).toEqual([2000, 50]);
    expect(sent[1]!.source).toMatchObject({ media_type: "image/png", data: small });
    expect(JSON.stringify(blocks)).toContain("[Image could not be processed");
  });

  it("an image file over ~500 KB is re-encoded (as JPEG) before it is sent; one of 480 KB goes as it is", async () => {
    world.stub.setDefault(text("ok"));
    const kept = png(400, 409, true).toString("base64");
    const big = png(404, 422, true).toString("base64");
    await run({
      images: [
        { mediaType: "image/png", data: kept },
        { mediaType: "image/png", data: big },
      ],
    }).done;
    const sent = imageBlocksOf(world.stub.turnRequests()[0]!.body);
    expect(sent[0]!.source).toMatchObject({ media_type: "image/png", data: kept });
    expect(sent[1]!.source.media_type).toBe("image/jpeg");
    expect(sent[1]!.source.data.length).toBeLessThan(big.length);
  });

  it("a warm turn carries images the same way", async () => {
    world.stub.enqueue(text("a dot"));
    const p = startWarm({
      invocation: inv({ model: "claude-sonnet-4-6" }),
      cwd: world.work.dir,
      bin: world.cli.bin,
      sourceEnv: world.cli.env,
      killGraceMs: 500,
    });
    warmed.push(p);
    const out = await p.turn({
      prompt: "and this?",
      images: [{ mediaType: "image/gif", data: GIF_1PX }],
      timeoutMs: 60_000,
    });
    expect(out.text).toBe("a dot");
    const [req] = world.stub.turnRequests();
    expect(imageBlocksOf(req!.body).map((b) => b.source.data)).toEqual([GIF_1PX]);
    expect(lastUserBlocks(req!.body).at(-1)).toMatchObject({ type: "text", text: "and this?" });
  });
});

describe("a prompt longer than the model's context", () => {
  it("the API's 400 'prompt is too long': terminal_reason prompt_too_long, one request, ClaudePromptTooLongError", async () => {
    world.stub.setDefault(promptTooLong(250_000, 200_000));
    // Not retried, though the CLI may retry twice.
    const err = await failure(run({ sourceEnv: { ...world.cli.env, CLAUDE_CODE_MAX_RETRIES: "2" } }).done);
    expect(err).toBeInstanceOf(ClaudePromptTooLongError);
    expect(err).toMatchObject({ code: "prompt_too_long", status: 400, retryable: false });
    expect(err.message).toMatch(/^Prompt is too long/);
    expect(err.result).toMatchObject({
      is_error: true,
      api_error_status: 400,
      terminal_reason: "prompt_too_long",
    });
    expect(world.stub.turnRequests()).toHaveLength(1);
  });

  it("one the CLI estimates past the model's window (200k for claude-sonnet-4-6) is refused before any request: the same error", async () => {
    world.stub.setDefault(text("never sent"));
    const err = await failure(
      run({ invocation: inv({ model: "claude-sonnet-4-6" }), prompt: "я".repeat(950_000) }).done,
    );
    expect(err).toBeInstanceOf(ClaudePromptTooLongError);
    expect(err.result).toMatchObject({
      is_error: true,
      api_error_status: null,
      terminal_reason: "blocking_limit",
      result: "Prompt is too long",
    });
    expect(world.stub.requests).toEqual([]);
  });
});

describe("a forking resume", () => {
  it("records into a new session the runner names up front; the original keeps its own history", async () => {
    world.stub.setDefault(text("noted"));
    const first = await run({ invocation: inv({ session: { kind: "new" } }), prompt: "my name is Ada" }).done;

    world.stub.setDefault(text("forked"));
    const fork = run({
      invocation: inv({ session: { kind: "resume", id: first.sessionId, fork: true } }),
      prompt: "the fork's turn",
    });
    expect(fork.sessionId).toBeDefined();
    expect(fork.sessionId).not.toBe(first.sessionId);
    const forked = await fork.done;
    expect(forked.sessionId).toBe(fork.sessionId);
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("my name is Ada");

    world.stub.setDefault(text("original again"));
    const again = await run({
      invocation: inv({ session: { kind: "resume", id: first.sessionId } }),
      prompt: "once more",
    }).done;
    expect(again.sessionId).toBe(first.sessionId);
    const sent = messagesText(world.stub.turnRequests().at(-1)!.body);
    expect(sent).toContain("my name is Ada");
    expect(sent).not.toContain("the fork's turn");
  });
});
