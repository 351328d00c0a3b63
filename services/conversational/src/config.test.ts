import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("defaults", () => {
    const { env, auth, models } = loadConfig({ AUTH_TOKENS: "voice=0123456789abcdef" });
    expect(env).toMatchObject({
      PORT: 8081,
      NATS_URL: "nats://127.0.0.1:4222",
      CONVERSATION_TTL_SECONDS: 86_400,
      CONVERSATIONAL_TIMEOUT_SECONDS: 60,
      CONVERSATION_CWD: "/tmp/claude-gateway-conversational/cwd",
      CONVERSATION_LOCK_GRACE_SECONDS: 30,
      SHUTDOWN_GRACE_SECONDS: 30,
      CONVERSATIONAL_MAX_CONCURRENCY: 5,
      CONVERSATIONAL_QUEUE_WAIT_SECONDS: 5,
      LOG_LEVEL: "info",
    });
    expect(env.REPLICA_ID).toMatch(/-\d+$/);
    expect(env.CALLER_POLICY_FILE).toBeUndefined();
    expect(env.AGENTS_DIR).toBeUndefined();
    expect(env.CLAUDE_BIN).toBeUndefined();
    expect(auth.tokens.map((t) => t.name)).toEqual(["voice"]);
    expect(models.defaultModel).toBe("claude-sonnet-4-6");
  });

  it("reads every variable", () => {
    const { env, models } = loadConfig({
      PORT: "9000",
      NATS_URL: "nats://nats:4222",
      CONVERSATION_TTL_SECONDS: "600",
      CONVERSATIONAL_TIMEOUT_SECONDS: "20",
      CONVERSATION_CWD: "/work/conversations",
      CONVERSATION_LOCK_GRACE_SECONDS: "5",
      SHUTDOWN_GRACE_SECONDS: "0",
      AGENTS_DIR: "/app/agents",
      CLAUDE_BIN: "/usr/local/bin/claude",
      LOG_LEVEL: "debug",
      REPLICA_ID: "conv-0",
      CONVERSATIONAL_MAX_CONCURRENCY: "3",
      CONVERSATIONAL_QUEUE_WAIT_SECONDS: "0",
      CALLER_POLICY_FILE: "/etc/claude-gateway/policy.yaml",
      SUPPORTED_MODELS: "claude-haiku-4-5,claude-sonnet-4-6",
      DEFAULT_MODEL: "claude-haiku-4-5",
    });
    expect(env).toMatchObject({
      PORT: 9000,
      CONVERSATION_TTL_SECONDS: 600,
      CONVERSATIONAL_TIMEOUT_SECONDS: 20,
      CONVERSATION_CWD: "/work/conversations",
      SHUTDOWN_GRACE_SECONDS: 0,
      CLAUDE_BIN: "/usr/local/bin/claude",
      REPLICA_ID: "conv-0",
      CONVERSATIONAL_MAX_CONCURRENCY: 3,
      CONVERSATIONAL_QUEUE_WAIT_SECONDS: 0,
      CALLER_POLICY_FILE: "/etc/claude-gateway/policy.yaml",
    });
    expect(models).toEqual({
      supported: ["claude-haiku-4-5", "claude-sonnet-4-6"],
      defaultModel: "claude-haiku-4-5",
    });
  });

  it("an empty variable counts as unset", () => {
    expect(loadConfig({ PORT: "", CONVERSATION_CWD: "" }).env).toMatchObject({
      PORT: 8081,
      CONVERSATION_CWD: "/tmp/claude-gateway-conversational/cwd",
    });
  });

  it("lists every problem at once", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "http",
        CONVERSATION_TTL_SECONDS: "0",
        CONVERSATIONAL_TIMEOUT_SECONDS: "-1",
        CONVERSATION_CWD: "relative/dir",
        CONVERSATIONAL_MAX_CONCURRENCY: "0",
        CONVERSATIONAL_QUEUE_WAIT_SECONDS: "-1",
        LOG_LEVEL: "loud",
        AUTH_TOKENS: "broken",
        SUPPORTED_MODELS: "claude-haiku-4-5",
        DEFAULT_MODEL: "claude-opus-4-7",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      "PORT",
      "CONVERSATION_TTL_SECONDS",
      "CONVERSATIONAL_TIMEOUT_SECONDS",
      "CONVERSATION_CWD",
      "CONVERSATIONAL_MAX_CONCURRENCY",
      "CONVERSATIONAL_QUEUE_WAIT_SECONDS",
      "LOG_LEVEL",
      "AUTH_TOKENS",
      "claude-opus-4-7",
    ]) {
      expect(message).toContain(name);
    }
  });
});
