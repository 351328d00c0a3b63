import { describe, expect, it } from "vitest";
import { base64DecodedBytes, isTerminal, JobEvent, JobSubmission, jobIdFor, previewOf } from "./index.js";

const ok = { agent: "general", prompt: "fix the tests" };

describe("JobSubmission", () => {
  it("accepts the minimal and the full job", () => {
    expect(JobSubmission.parse(ok)).toEqual(ok);
    const full = {
      ...ok,
      id: "job_1",
      model: "claude-sonnet-4-6",
      repo: "https://git.example/x.git",
      ref: "main",
      timeoutSeconds: 60,
      budgetUsd: 1.5,
      session: { kind: "resume", id: "0b5cf2a4-6a0e-4d6b-9b8e-2f1f0f6b9a11" },
    };
    expect(JobSubmission.parse(full)).toEqual(full);
  });
  it.each<[string, Record<string, unknown>, string]>([
    ["unknown field", { ...ok, temperature: 1 }, ""],
    ["missing prompt", { agent: "general" }, "prompt"],
    ["empty prompt", { ...ok, prompt: "" }, "prompt"],
    ["bad agent", { ...ok, agent: "../etc" }, "agent"],
    ["bad id", { ...ok, id: "a.b" }, "id"],
    ["ref without repo", { ...ok, ref: "main" }, "ref"],
    ["ref like a flag", { ...ok, repo: "r", ref: "--upload-pack=x" }, "ref"],
    ["zero timeout", { ...ok, timeoutSeconds: 0 }, "timeoutSeconds"],
    ["fractional timeout", { ...ok, timeoutSeconds: 1.5 }, "timeoutSeconds"],
    ["negative budget", { ...ok, budgetUsd: -1 }, "budgetUsd"],
    ["resume without uuid", { ...ok, session: { kind: "resume", id: "x" } }, "session.id"],
    ["unknown session kind", { ...ok, session: { kind: "fork" } }, "session.kind"],
  ])("refuses %s", (_name, body, path) => {
    const r = JobSubmission.safeParse(body);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join("."))).toContain(path);
  });
});

describe("JobEvent", () => {
  it("parses each event type and refuses unknown ones", () => {
    const base = { jobId: "j", seq: 0, at: "2026-01-01T00:00:00Z" };
    expect(JobEvent.parse({ ...base, type: "text", delta: "hi" }).type).toBe("text");
    expect(JobEvent.parse({ ...base, type: "status", status: "running" }).type).toBe("status");
    expect(JobEvent.safeParse({ ...base, type: "thinking", delta: "x" }).success).toBe(false);
  });
  it("knows the terminal statuses", () => {
    expect(["queued", "running"].map((s) => isTerminal(s as never))).toEqual([false, false]);
    expect(["succeeded", "failed", "timed_out", "cancelled"].every((s) => isTerminal(s as never))).toBe(true);
  });
});

describe("jobIdFor", () => {
  it("is a v5 UUID, the same for the same caller and id, different across callers and ids", () => {
    const a = jobIdFor("tok_alice", "order-1");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobIdFor("tok_alice", "order-1")).toBe(a);
    expect(jobIdFor("tok_bob", "order-1")).not.toBe(a);
    expect(jobIdFor("tok_alice", "order-2")).not.toBe(a);
    // The separator keeps (caller, id) pairs apart.
    expect(jobIdFor("tok_a", "bc")).not.toBe(jobIdFor("tok_ab", "c"));
  });
});

describe("previewOf", () => {
  it("keeps a short text whole and cuts a long one at the limit", () => {
    expect(previewOf("abc", 5)).toBe("abc");
    expect(previewOf("abcdef", 5)).toBe("abcde");
    expect(previewOf("x".repeat(5000))).toHaveLength(1000);
  });
  it("never splits a surrogate pair", () => {
    // "😀" is two UTF-16 units: a cut between them would leave half a character.
    expect(previewOf("ab😀cd", 3)).toBe("ab");
    expect(previewOf("ab😀cd", 4)).toBe("ab😀");
  });
});

describe("JobSubmission images and structured output", () => {
  const png = { mediaType: "image/png", data: "iVBORw0KGgo=" };
  it("takes inline or referenced images and a JSON schema", () => {
    const job = {
      ...ok,
      images: [png, { mediaType: "image/jpeg", ref: { object: "incoming/tok_a/1", bytes: 10 } }],
      jsonSchema: { type: "object", properties: { a: { type: "string" } } },
      session: { kind: "resume", id: "0b5cf2a4-6a0e-4d6b-9b8e-2f1f0f6b9a11", fork: true },
    };
    expect(JobSubmission.parse(job)).toEqual(job);
  });
  it.each<[string, Record<string, unknown>]>([
    ["an image with neither data nor ref", { images: [{ mediaType: "image/png" }] }],
    ["an image with both", { images: [{ ...png, ref: { object: "incoming/tok_a/1", bytes: 1 } }] }],
    ["an unknown image type", { images: [{ ...png, mediaType: "image/bmp" }] }],
    ["data that is not base64", { images: [{ ...png, data: "not base64!" }] }],
    ["no images at all", { images: [] }],
    ["too many images", { images: Array.from({ length: 21 }, () => png) }],
    ["a schema that is not an object", { jsonSchema: "string" }],
    ["a schema over 64 KiB", { jsonSchema: { description: "x".repeat(70_000) } }],
  ])("refuses %s", (_name, extra) => {
    expect(JobSubmission.safeParse({ ...ok, ...extra }).success).toBe(false);
  });
});

describe("base64DecodedBytes", () => {
  it.each([
    ["", 0],
    ["QQ==", 1],
    ["QUI=", 2],
    ["QUJD", 3],
    ["QUJDRA==", 4],
  ])("%j decodes to %i bytes", (text, bytes) => {
    expect(base64DecodedBytes(text)).toBe(bytes);
    expect(Buffer.from(text, "base64").length).toBe(bytes);
  });
});
