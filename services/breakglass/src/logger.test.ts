import { describe, expect, it } from "vitest";
import { breakglassLogger } from "./logger.js";

/** The JSON lines a logger writes to stdout while `log` runs. */
function captured(log: () => void): string {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    lines.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  try {
    log();
  } finally {
    process.stdout.write = write;
  }
  return lines.join("");
}

describe("breakglassLogger", () => {
  it("names the service and redacts AUTH_TOKENS, authorization headers and the CLI's secrets", () => {
    const line = captured(() =>
      breakglassLogger("info").info(
        {
          env: { AUTH_TOKENS: "me=auth-secret-1", CLAUDE_CODE_OAUTH_TOKEN: "oauth-secret-2" },
          req: { headers: { authorization: "Bearer bearer-secret-3" } },
          authorization: "Bearer bearer-secret-4",
          AUTH_TOKENS: "me=auth-secret-5",
          ok: 1,
        },
        "hello",
      ),
    );
    expect(JSON.parse(line)).toMatchObject({
      service: "breakglass",
      msg: "hello",
      ok: 1,
      AUTH_TOKENS: "[redacted]",
      authorization: "[redacted]",
      env: { AUTH_TOKENS: "[redacted]", CLAUDE_CODE_OAUTH_TOKEN: "[redacted]" },
      req: { headers: { authorization: "[redacted]" } },
    });
    expect(line).not.toMatch(/secret-\d/);
  });
});
