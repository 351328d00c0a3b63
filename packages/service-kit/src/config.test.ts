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
  it("carries the metrics token, or none", () => {
    const token = "metrics-token-0123456789";
    expect(loadServiceConfig("svc", Schema, { ...auth, METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(loadServiceConfig("svc", Schema, auth).metricsToken).toBeUndefined();
  });
  it("refuses short tokens and a metrics token that is a caller's, naming them, never quoting them", () => {
    const env = { AUTH_TOKENS: "svc=token-0123456789,ops=ops-1234", METRICS_TOKEN: "metrics-1" };
    expect(() => loadServiceConfig("svc", Schema, env)).toThrow(
      /token of "ops" is shorter than 16 characters/,
    );
    expect(() => loadServiceConfig("svc", Schema, env)).toThrow(/METRICS_TOKEN: shorter than 16 characters/);
    expect(() => loadServiceConfig("svc", Schema, env)).not.toThrow(/ops-1234|metrics-1/);
    expect(() => loadServiceConfig("svc", Schema, { ...auth, METRICS_TOKEN: "token-0123456789" })).toThrow(
      /METRICS_TOKEN: the same as the token of "svc"; give it its own/,
    );
  });
  it("runs cross-field checks on a valid env", () => {
    expect(() => loadServiceConfig("svc", Schema, auth, () => ["PORT must not be 8080"])).toThrow(
      /PORT must not be 8080/,
    );
  });
});
