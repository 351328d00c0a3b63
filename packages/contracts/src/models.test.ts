import { describe, expect, it } from "vitest";
import {
  DEFAULT_MODEL,
  DEFAULT_SUPPORTED_MODELS,
  loadModelPolicy,
  ModelNotSupportedError,
  resolveModel,
} from "./models.js";

describe("model policy", () => {
  it("defaults to the documented list and claude-sonnet-4-6", () => {
    const p = loadModelPolicy({});
    expect(p.supported).toEqual([...DEFAULT_SUPPORTED_MODELS]);
    expect(p.supported).toEqual(
      expect.arrayContaining(["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"]),
    );
    expect(p.defaultModel).toBe(DEFAULT_MODEL);
    expect(DEFAULT_MODEL).toBe("claude-sonnet-4-6");
  });
  it("parses a comma-separated list, trimming blanks and duplicates", () => {
    const p = loadModelPolicy({ SUPPORTED_MODELS: " a , b,,a ", DEFAULT_MODEL: "b" });
    expect(p).toEqual({ supported: ["a", "b"], defaultModel: "b" });
  });
  it("an empty list means the default list", () => {
    expect(loadModelPolicy({ SUPPORTED_MODELS: " , " }).supported).toEqual([...DEFAULT_SUPPORTED_MODELS]);
  });
  it("a default outside the list is a configuration error naming the list", () => {
    expect(() => loadModelPolicy({ SUPPORTED_MODELS: "a,b", DEFAULT_MODEL: "c" })).toThrow(/'c'.*a, b/);
  });
  it("resolves missing to the default, known to itself, unknown to an error listing the ids", () => {
    const p = loadModelPolicy({ SUPPORTED_MODELS: "x,y", DEFAULT_MODEL: "x" });
    expect(resolveModel(p, undefined)).toBe("x");
    expect(resolveModel(p, null)).toBe("x");
    expect(resolveModel(p, "")).toBe("x");
    expect(resolveModel(p, "y")).toBe("y");
    try {
      resolveModel(p, "gpt-4o");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ModelNotSupportedError);
      expect((err as ModelNotSupportedError).code).toBe("model_not_supported");
      expect((err as Error).message).toBe("model 'gpt-4o' is not supported; supported models: x, y");
    }
  });
});
