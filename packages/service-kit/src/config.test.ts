import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadServiceConfig } from "./config.js";

const Schema = z.object({
  PORT: z.coerce.number().int().min(0).default(8080),
  NAME: z.string().default("x"),
});
const auth = { AUTH_TOKENS: "svc=token-0123456789" };

describe("loadServiceConfig", () => {
  it("parses the service's env, auth and models with defaults", () => {
    const c = loadServiceConfig("svc", Schema, { ...auth, PORT: "9000" });
    expect(c.env).toEqual({ PORT: 9000, NAME: "x" });
    expect(c.auth.tokens.map((t) => t.name)).toEqual(["svc"]);
    expect(c.models.defaultModel).toBe("claude-sonnet-4-6");
  });
  it("treats empty variables as unset", () => {
    expect(loadServiceConfig("svc", Schema, { ...auth, PORT: "", NAME: "" }).env).toEqual({
      PORT: 8080,
      NAME: "x",
    });
  });
  it("lists every problem at once, never a secret", () => {
    try {
      loadServiceConfig("svc", Schema, { PORT: "-1", AUTH_TOKENS: "broken", DEFAULT_MODEL: "gpt-4o" }, () => [
        "custom rule",
      ]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^invalid svc configuration:/);
      expect(msg).toMatch(/PORT/);
      expect(msg).toMatch(/AUTH_TOKENS/);
      expect(msg).toMatch(/gpt-4o/);
      expect(msg).not.toMatch(/custom rule/); // cross-field checks run only on a valid env
    }
  });
  it("runs cross-field checks on a valid env", () => {
    expect(() => loadServiceConfig("svc", Schema, auth, () => ["PORT must not be 8080"])).toThrow(
      /PORT must not be 8080/,
    );
  });
});
