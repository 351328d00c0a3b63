import { describe, expect, it } from "vitest";
import { buildChildEnv, CLI_ENV_DEFAULTS, RUN_MARKER_VAR } from "./child-env.js";

const source = {
  HOME: "/home/svc",
  PATH: "/usr/bin",
  ANTHROPIC_BASE_URL: "http://api",
  CLAUDE_CODE_OAUTH_TOKEN: "oauth",
  AUTH_TOKENS: "svc=secret",
  NATS_URL: "nats://user:pw@nats",
  AWS_SECRET_ACCESS_KEY: "aws",
  SSH_AUTH_SOCK: "/tmp/agent.sock",
};

describe("buildChildEnv", () => {
  it("passes the CLI's variables and none of the service's secrets", () => {
    const env = buildChildEnv(source, { runId: "r1" });
    expect(env).toMatchObject({
      HOME: "/home/svc",
      PATH: "/usr/bin",
      ANTHROPIC_BASE_URL: "http://api",
      CLAUDE_CODE_OAUTH_TOKEN: "oauth",
    });
    expect(env).not.toHaveProperty("AUTH_TOKENS");
    expect(env).not.toHaveProperty("NATS_URL");
    expect(env).not.toHaveProperty("AWS_SECRET_ACCESS_KEY");
    expect(env).not.toHaveProperty("SSH_AUTH_SOCK");
  });
  it("sets fail-fast defaults and the run marker", () => {
    const env = buildChildEnv({}, { runId: "r1" });
    expect(env).toMatchObject(CLI_ENV_DEFAULTS);
    expect(env.CLAUDE_CODE_MAX_RETRIES).toBe("2");
    expect(env[RUN_MARKER_VAR]).toBe("r1");
  });
  it("lets the operator tune the CLI from the source env", () => {
    expect(
      buildChildEnv({ CLAUDE_CODE_MAX_RETRIES: "5", API_TIMEOUT_MS: "1000" }, { runId: "r" }),
    ).toMatchObject({
      CLAUDE_CODE_MAX_RETRIES: "5",
      API_TIMEOUT_MS: "1000",
    });
  });
  it("copies named extras and sets verbatim values last; the marker cannot be overridden", () => {
    const env = buildChildEnv(source, {
      runId: "r1",
      passthrough: ["SSH_AUTH_SOCK"],
      set: { HOME: "/tmp/job-home", IS_SANDBOX: "1", [RUN_MARKER_VAR]: "forged" },
    });
    expect(env).toMatchObject({ SSH_AUTH_SOCK: "/tmp/agent.sock", HOME: "/tmp/job-home", IS_SANDBOX: "1" });
    expect(env[RUN_MARKER_VAR]).toBe("r1");
  });
});
