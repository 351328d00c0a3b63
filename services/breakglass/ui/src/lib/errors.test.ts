import { describe, expect, it } from "vitest";
import { errorOf } from "./errors.js";

describe("errorOf", () => {
  it("reads the envelope's code and detail", () => {
    expect(errorOf({ error: "vm_busy", detail: "cycle is running; wait for it to finish" })).toEqual({
      error: "vm_busy",
      detail: "cycle is running; wait for it to finish",
    });
    expect(errorOf({ error: "too_many_turns", detail: "2 turns", retry_after_seconds: 10 })).toMatchObject({
      error: "too_many_turns",
    });
    expect(errorOf({ error: "internal" })).toEqual({ error: "internal", detail: "" });
  });

  it("anything else is not an error: a verb's result, the old nested shape, no body", () => {
    expect(errorOf({ verb: "status", ok: true, output: "" })).toBeUndefined();
    expect(errorOf({ error: { code: "x", message: "y" } })).toBeUndefined();
    expect(errorOf(undefined)).toBeUndefined();
    expect(errorOf(null)).toBeUndefined();
    expect(errorOf("error")).toBeUndefined();
  });
});
