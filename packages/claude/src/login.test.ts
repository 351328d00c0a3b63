import { describe, expect, it } from "vitest";
import { detectClaudeLogin } from "./login.js";

const none = () => false;

describe("detectClaudeLogin", () => {
  it.each([
    [{ CLAUDE_CODE_OAUTH_TOKEN: "t" }, "CLAUDE_CODE_OAUTH_TOKEN"],
    [{ ANTHROPIC_API_KEY: "k" }, "ANTHROPIC_API_KEY"],
    [{ ANTHROPIC_AUTH_TOKEN: "a" }, "ANTHROPIC_AUTH_TOKEN"],
  ])("accepts %j", (env, via) => {
    expect(detectClaudeLogin(env, none)).toEqual({ ok: true, via });
  });
  it("accepts a stored login under HOME or CLAUDE_CONFIG_DIR", () => {
    const at = (p: string) => (q: string) => q === p;
    expect(detectClaudeLogin({ HOME: "/h" }, at("/h/.claude/.credentials.json"))).toMatchObject({ ok: true });
    expect(
      detectClaudeLogin({ HOME: "/h", CLAUDE_CONFIG_DIR: "/c" }, at("/c/.credentials.json")),
    ).toMatchObject({ ok: true });
  });
  it("says how to log in when there is nothing", () => {
    const s = detectClaudeLogin({ HOME: "/h", ANTHROPIC_API_KEY: "" }, none);
    expect(s.ok).toBe(false);
    expect(!s.ok && s.reason).toMatch(/CLAUDE_CODE_OAUTH_TOKEN/);
    expect(detectClaudeLogin({}, none).ok).toBe(false);
  });
});
