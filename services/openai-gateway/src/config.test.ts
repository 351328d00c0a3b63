import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("applies the defaults", () => {
    const config = loadConfig({ AUTH_TOKENS: "me=secret-token-123" });
    expect(config.env).toEqual({
      PORT: 8080,
      NATS_URL: "nats://127.0.0.1:4222",
      // No tools: another agent must be asked for, and listed in the caller's policy.
      GATEWAY_AGENT: "assistant",
      GATEWAY_BUDGET_USD: 2,
      GATEWAY_TIMEOUT_SECONDS: 900,
      IMAGE_FETCH_ALLOWLIST: [],
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_SECONDS: 30,
    });
    expect(config.auth.tokens.map((t) => t.name)).toEqual(["me"]);
    expect(config.models.defaultModel).toBe("claude-sonnet-4-6");
  });

  it("reads the default repository and refuses a ref without one", () => {
    const config = loadConfig({
      AUTH_TOKENS: "me=secret-token-123",
      GATEWAY_REPO: "https://git.example/infra.git",
      GATEWAY_REF: "main",
    });
    expect(config.env).toMatchObject({ GATEWAY_REPO: "https://git.example/infra.git", GATEWAY_REF: "main" });
    expect(() => loadConfig({ AUTH_TOKENS: "me=secret-token-123", GATEWAY_REF: "main" })).toThrow(
      /GATEWAY_REF/,
    );
    expect(() =>
      loadConfig({ AUTH_TOKENS: "me=secret-token-123", GATEWAY_REPO: "r", GATEWAY_REF: "--upload-pack=x" }),
    ).toThrow(/GATEWAY_REF/);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "0",
      NATS_URL: "nats://nats:4222",
      GATEWAY_AGENT: "recruiter-triage",
      GATEWAY_BUDGET_USD: "0.5",
      GATEWAY_TIMEOUT_SECONDS: "60",
      SUPPORTED_MODELS: "claude-haiku-4-5",
      DEFAULT_MODEL: "claude-haiku-4-5",
      LOG_LEVEL: "silent",
      SHUTDOWN_GRACE_SECONDS: "0",
      CALLER_POLICY_FILE: "/etc/claude-gateway/policy.yaml",
      IMAGE_FETCH_ALLOWLIST: " img.example , cdn.example:8443,",
    });
    expect(config.env).toMatchObject({
      PORT: 0,
      GATEWAY_AGENT: "recruiter-triage",
      CALLER_POLICY_FILE: "/etc/claude-gateway/policy.yaml",
      GATEWAY_BUDGET_USD: 0.5,
      GATEWAY_TIMEOUT_SECONDS: 60,
      IMAGE_FETCH_ALLOWLIST: ["img.example", "cdn.example:8443"],
    });
    expect(config.models).toEqual({ supported: ["claude-haiku-4-5"], defaultModel: "claude-haiku-4-5" });
    // No credentials is a valid configuration: every request is then refused with 503.
    expect(config.auth.tokens).toEqual([]);
  });

  it("lists every problem at once, and no secret", () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: "x",
        GATEWAY_AGENT: "../etc",
        GATEWAY_BUDGET_USD: "-1",
        GATEWAY_TIMEOUT_SECONDS: "999999",
        DEFAULT_MODEL: "gpt-4o",
        AUTH_TOKENS: "me=very-secret-value",
        AUTH_TOKENS_FILE: "/nope",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const name of [
      "PORT",
      "GATEWAY_AGENT",
      "GATEWAY_BUDGET_USD",
      "GATEWAY_TIMEOUT_SECONDS",
      "gpt-4o",
      "AUTH_TOKENS_FILE",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain("very-secret-value");
  });
});
