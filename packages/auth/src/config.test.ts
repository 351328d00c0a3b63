import { describe, expect, it } from "vitest";
import { loadAuthConfig, parseAuthConfig } from "./config.js";
import { AuthConfigError } from "./errors.js";

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
};
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const content = contents[path];
    return content === undefined ? noFiles(path) : content;
  };

/** Tokens of the minimum length and more (16 characters). */
const CI = "ci-token-0123456789";
const BOT = "bot-token-0123456789";

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected an AuthConfigError");
}

describe("loadAuthConfig", () => {
  it("yields no credentials when nothing is set (the middleware then refuses with 503)", () => {
    expect(loadAuthConfig({}, noFiles)).toEqual({ tokens: [] });
  });

  it("treats empty variables as unset", () => {
    const env = {
      AUTH_TOKENS: "",
      AUTH_TOKENS_FILE: "",
      AUTHENTIK_PROXY_SECRET: "",
      AUTHENTIK_PROXY_SECRET_HEADER: "",
    };
    expect(loadAuthConfig(env, noFiles)).toEqual({ tokens: [] });
  });

  it("reads AUTH_TOKENS", () => {
    expect(loadAuthConfig({ AUTH_TOKENS: `ci=${CI},bot=${BOT}` }, noFiles).tokens).toEqual([
      { name: "ci", token: CI },
      { name: "bot", token: BOT },
    ]);
  });

  it("reads AUTH_TOKENS_FILE through the injected reader", () => {
    const readFile = files({ "/run/secrets/tokens": `# k8s secret\nci=${CI}\nbot=${BOT}\n` });
    const config = loadAuthConfig({ AUTH_TOKENS_FILE: "/run/secrets/tokens" }, readFile);
    expect(config.tokens.map((t) => t.name)).toEqual(["ci", "bot"]);
  });

  it("locates file problems by path and line", () => {
    const readFile = files({ "/t": `ci=${CI}\noops\n` });
    expect(problemsOf(() => loadAuthConfig({ AUTH_TOKENS_FILE: "/t" }, readFile))).toEqual([
      'AUTH_TOKENS_FILE (/t) line 2: expected name=token (no "=" found)',
    ]);
  });

  it("reports an unreadable AUTH_TOKENS_FILE", () => {
    expect(problemsOf(() => loadAuthConfig({ AUTH_TOKENS_FILE: "/missing" }, noFiles))).toEqual([
      'AUTH_TOKENS_FILE: cannot read "/missing" (ENOENT)',
    ]);
  });

  it("refuses both AUTH_TOKENS and AUTH_TOKENS_FILE", () => {
    const env = { AUTH_TOKENS: `ci=${CI}`, AUTH_TOKENS_FILE: "/t" };
    expect(problemsOf(() => loadAuthConfig(env, files({ "/t": `bot=${BOT}` })))).toEqual([
      "set AUTH_TOKENS or AUTH_TOKENS_FILE, not both",
    ]);
  });

  it("throws one AuthConfigError listing every problem, without token values", () => {
    const env = {
      AUTH_TOKENS: "ci=sekrit-one-0123456789,bot=sekrit-one-0123456789,bare-sekrit,ops=sekrit-short",
      AUTHENTIK_PROXY_SECRET: "proxy-sekrit\n",
    };
    let caught: unknown;
    try {
      loadAuthConfig(env, noFiles);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuthConfigError);
    const error = caught as AuthConfigError;
    expect(error.problems).toEqual([
      'AUTH_TOKENS entry 3: expected name=token (no "=" found)',
      'AUTH_TOKENS entry 4: token of "ops" is shorter than 16 characters (make one with `openssl rand -hex 16`)',
      'AUTH_TOKENS entry 2 ("bot"): same token as AUTH_TOKENS entry 1 ("ci")',
      "AUTHENTIK_PROXY_SECRET has leading or trailing whitespace",
    ]);
    expect(error.message).toContain("Invalid auth configuration:\n  - AUTH_TOKENS entry 3");
    expect(error.message).not.toMatch(/sekrit/);
  });

  describe("authentik", () => {
    it("is enabled by AUTHENTIK_PROXY_SECRET, with the default header", () => {
      expect(loadAuthConfig({ AUTHENTIK_PROXY_SECRET: "s3cret" }, noFiles)).toEqual({
        tokens: [],
        authentik: { proxySecret: "s3cret", secretHeader: "x-authentik-proxy-secret" },
      });
    });

    it("uses AUTHENTIK_PROXY_SECRET_HEADER, lower-cased", () => {
      const env = { AUTHENTIK_PROXY_SECRET: "s3cret", AUTHENTIK_PROXY_SECRET_HEADER: "X-Proxy-Secret" };
      expect(loadAuthConfig(env, noFiles).authentik?.secretHeader).toBe("x-proxy-secret");
    });

    it("combines with bearer tokens", () => {
      const config = loadAuthConfig({ AUTH_TOKENS: `ci=${CI}`, AUTHENTIK_PROXY_SECRET: "s3cret" }, noFiles);
      expect(config.tokens).toHaveLength(1);
      expect(config.authentik).toBeDefined();
    });

    it("refuses a header without a secret", () => {
      expect(problemsOf(() => loadAuthConfig({ AUTHENTIK_PROXY_SECRET_HEADER: "x-s" }, noFiles))).toEqual([
        "AUTHENTIK_PROXY_SECRET_HEADER is set but AUTHENTIK_PROXY_SECRET is not",
      ]);
    });

    it.each([
      ["not a header name", "x proxy", "AUTHENTIK_PROXY_SECRET_HEADER: not a valid HTTP header name"],
      [
        "the Authorization header",
        "Authorization",
        'AUTHENTIK_PROXY_SECRET_HEADER: must not be "authorization"',
      ],
      [
        "an identity header",
        "X-Authentik-Username",
        'AUTHENTIK_PROXY_SECRET_HEADER: must not be "x-authentik-username"',
      ],
    ])("refuses a secret header that is %s", (_, header, problem) => {
      const env = { AUTHENTIK_PROXY_SECRET: "s3cret", AUTHENTIK_PROXY_SECRET_HEADER: header };
      expect(problemsOf(() => loadAuthConfig(env, noFiles))).toEqual([problem]);
    });

    it.each([" s3cret", "s3cret\n", "   "])("refuses a secret with surrounding whitespace (%j)", (secret) => {
      expect(problemsOf(() => loadAuthConfig({ AUTHENTIK_PROXY_SECRET: secret }, noFiles))).toEqual([
        "AUTHENTIK_PROXY_SECRET has leading or trailing whitespace",
      ]);
    });
  });
});

describe("parseAuthConfig", () => {
  it("accepts what loadAuthConfig produces", () => {
    const config = loadAuthConfig({ AUTH_TOKENS: `ci=${CI}`, AUTHENTIK_PROXY_SECRET: "s" }, noFiles);
    expect(parseAuthConfig(config)).toEqual(config);
  });

  it("applies the loader's rules to a hand-built config, without quoting tokens", () => {
    const problems = problemsOf(() =>
      parseAuthConfig({
        tokens: [
          { name: "ci", token: "sekrit-0123456789" },
          { name: "ci", token: "sekrit-0123456789" },
          { name: "bad name", token: "has space-0123456789" },
          { name: "ops", token: "sekrit-short" },
        ],
        authentik: { proxySecret: "", secretHeader: "authorization" },
      }),
    );
    expect(problems).toEqual([
      'tokens.2.name: name may only contain letters, digits, ".", "_", "@" and "-"',
      "tokens.2.token: token must be printable ASCII without spaces or commas",
      "authentik.proxySecret: proxySecret must not be empty",
      'authentik.secretHeader: must not be "authorization"',
      'tokens[3]: token of "ops" is shorter than 16 characters (make one with `openssl rand -hex 16`)',
      'tokens[1]: duplicate name "ci" (first at tokens[0])',
      'tokens[1] ("ci"): same token as tokens[0] ("ci")',
    ]);
    expect(problems.join("\n")).not.toMatch(/sekrit|has space/);
  });

  it("rejects duplicate names and tokens in a hand-built config", () => {
    const problems = problemsOf(() =>
      parseAuthConfig({
        tokens: [
          { name: "ci", token: "sekrit-0123456789" },
          { name: "ci", token: "sekrit-0123456789" },
        ],
      }),
    );
    expect(problems).toEqual([
      'tokens[1]: duplicate name "ci" (first at tokens[0])',
      'tokens[1] ("ci"): same token as tokens[0] ("ci")',
    ]);
  });
});
