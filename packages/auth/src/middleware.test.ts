import { Hono } from "hono";
import { describe, expect, expectTypeOf, it } from "vitest";
import { AuthConfigError } from "./errors.js";
import { type AuthFailure, type AuthLogger, type AuthOptions, createAuth } from "./middleware.js";
import type { AuthEnv, AuthVariables, Principal } from "./principal.js";
import type { AuthConfig } from "./schema.js";

const CI_TOKEN = "ci-token-0123456789abcdef";
const BOT_TOKEN = "bot-token-fedcba9876543210";
const PROXY_SECRET = "proxy-secret-5f2a9c";

const tokensOnly: AuthConfig = {
  tokens: [
    { name: "ci", token: CI_TOKEN },
    { name: "bot", token: BOT_TOKEN },
  ],
};
const withAuthentik: AuthConfig = {
  ...tokensOnly,
  authentik: { proxySecret: PROXY_SECRET, secretHeader: "x-authentik-proxy-secret" },
};
const nothing: AuthConfig = { tokens: [] };

/** A tiny service: the principal echoed back from a protected route, plus health probes. */
function appWith(config: AuthConfig, opts?: AuthOptions) {
  const app = new Hono<AuthEnv>();
  app.use(createAuth(config, opts));
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", (c) => c.text("ready"));
  app.get("/whoami", (c) => c.json(c.var.principal));
  return app;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const authentikHeaders = {
  "x-authentik-username": "alice",
  "x-authentik-email": "alice@example.com",
  "x-authentik-groups": "admins|developers",
};

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  const body = (await res.json()) as { error: string; detail: string };
  expect(body.error).toBe("unauthorized");
  expect(body.detail).not.toBe("");
}

/** Records every logger call as one string, to search for leaked secrets. */
function captureLogger() {
  const lines: string[] = [];
  const entries: { level: string; fields: object; message: string | undefined }[] = [];
  const record = (level: string) => (fields: object, message?: string) => {
    entries.push({ level, fields, message });
    lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
  };
  const logger: AuthLogger = { info: record("info"), warn: record("warn") };
  return { logger, lines, entries };
}

describe("bearer tokens", () => {
  const app = appWith(tokensOnly);

  it("refuses a request without credentials", async () => {
    const res = await app.request("/whoami");
    await expectUnauthorized(res);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("refuses a wrong token", async () => {
    const res = await app.request("/whoami", { headers: bearer("ci-token-0123456789abcdeX") });
    await expectUnauthorized(res);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  });

  it.each(["x", "ci-token-0123456789abcdef-and-more", CI_TOKEN.slice(0, -1)])(
    "refuses a token of a different length (%s)",
    async (token) => {
      await expectUnauthorized(await app.request("/whoami", { headers: bearer(token) }));
    },
  );

  it("accepts the right token and names the principal after it", async () => {
    const res = await app.request("/whoami", { headers: bearer(CI_TOKEN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "tok_ci", name: "ci", via: "bearer" });
  });

  it("tells configured tokens apart", async () => {
    const res = await app.request("/whoami", { headers: bearer(BOT_TOKEN) });
    expect(await res.json()).toEqual({ id: "tok_bot", name: "bot", via: "bearer" });
  });

  it("accepts the scheme in any case", async () => {
    const res = await app.request("/whoami", { headers: { authorization: `bearer ${CI_TOKEN}` } });
    expect(res.status).toBe(200);
  });

  it.each([
    ["another scheme", `Basic ${Buffer.from(`ci:${CI_TOKEN}`).toString("base64")}`, "Bearer"],
    ["the token without a scheme", CI_TOKEN, "Bearer"],
    ["an empty bearer", "Bearer ", 'Bearer error="invalid_request"'],
    ["two tokens", `Bearer ${CI_TOKEN} ${BOT_TOKEN}`, 'Bearer error="invalid_request"'],
  ])("refuses %s", async (_, authorization, challenge) => {
    const res = await app.request("/whoami", { headers: { authorization } });
    await expectUnauthorized(res);
    expect(res.headers.get("www-authenticate")).toBe(challenge);
  });
});

describe("an API key header (x-api-key, as Anthropic's clients send it)", () => {
  const app = appWith(tokensOnly, { apiKeyHeader: "x-api-key" });

  it("accepts a configured token in the header, as the same principal as its bearer", async () => {
    const res = await app.request("/whoami", { headers: { "x-api-key": CI_TOKEN } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "tok_ci", name: "ci", via: "bearer" });
  });

  it("still accepts Authorization: Bearer", async () => {
    expect((await app.request("/whoami", { headers: bearer(BOT_TOKEN) })).status).toBe(200);
  });

  it.each([
    ["a wrong key", { "x-api-key": `${CI_TOKEN}X` }],
    ["an empty key", { "x-api-key": "" }],
    ["a key with a space", { "x-api-key": `${CI_TOKEN} ${BOT_TOKEN}` }],
    ["a key and a bearer (two callers)", { "x-api-key": CI_TOKEN, ...bearer(BOT_TOKEN) }],
    ["a key and the same bearer", { "x-api-key": CI_TOKEN, ...bearer(CI_TOKEN) }],
  ])("refuses %s", async (_, headers) => {
    await expectUnauthorized(await app.request("/whoami", { headers }));
  });

  it("is ignored where it is not enabled", async () => {
    const plain = appWith(tokensOnly);
    await expectUnauthorized(await plain.request("/whoami", { headers: { "x-api-key": CI_TOKEN } }));
  });
});

describe("authentik forward-auth", () => {
  const app = appWith(withAuthentik);

  it("refuses forged identity headers without the proxy secret", async () => {
    await expectUnauthorized(await app.request("/whoami", { headers: authentikHeaders }));
  });

  it("refuses identity headers with the wrong proxy secret", async () => {
    const headers = { ...authentikHeaders, "x-authentik-proxy-secret": "proxy-secret-5f2a9d" };
    await expectUnauthorized(await app.request("/whoami", { headers }));
  });

  it("refuses forged identity headers even alongside a valid bearer token", async () => {
    const headers = { ...authentikHeaders, ...bearer(CI_TOKEN) };
    await expectUnauthorized(await app.request("/whoami", { headers }));
  });

  it("refuses any x-authentik-* header from a client, not just the identity ones", async () => {
    const headers = { "x-authentik-uid": "1", ...bearer(CI_TOKEN) };
    await expectUnauthorized(await app.request("/whoami", { headers }));
  });

  it("takes the principal from the headers when the proxy secret is right", async () => {
    const headers = { ...authentikHeaders, "x-authentik-proxy-secret": PROXY_SECRET };
    const res = await app.request("/whoami", { headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: "ak_alice",
      name: "alice",
      via: "authentik",
      email: "alice@example.com",
      groups: ["admins", "developers"],
    });
  });

  it("needs only the username; email and groups are optional", async () => {
    const headers = { "x-authentik-username": "bob", "x-authentik-proxy-secret": PROXY_SECRET };
    expect(await (await app.request("/whoami", { headers })).json()).toEqual({
      id: "ak_bob",
      name: "bob",
      via: "authentik",
    });
  });

  it("drops empty groups", async () => {
    const headers = {
      "x-authentik-username": "bob",
      "x-authentik-groups": "|a||b |",
      "x-authentik-proxy-secret": PROXY_SECRET,
    };
    const principal = (await (await app.request("/whoami", { headers })).json()) as Principal;
    expect(principal.groups).toEqual(["a", "b"]);
  });

  it("falls back to the bearer token when the proxy names no user", async () => {
    const withToken = { "x-authentik-proxy-secret": PROXY_SECRET, ...bearer(BOT_TOKEN) };
    expect(await (await app.request("/whoami", { headers: withToken })).json()).toEqual({
      id: "tok_bot",
      name: "bot",
      via: "bearer",
    });
    const without = { "x-authentik-proxy-secret": PROXY_SECRET, "x-authentik-username": " " };
    await expectUnauthorized(await app.request("/whoami", { headers: without }));
  });

  it("still accepts plain bearer tokens", async () => {
    expect((await app.request("/whoami", { headers: bearer(CI_TOKEN) })).status).toBe(200);
  });

  it("refuses identity headers when forward-auth is not enabled", async () => {
    const tokensApp = appWith(tokensOnly);
    const headers = { ...authentikHeaders, "x-authentik-proxy-secret": PROXY_SECRET };
    await expectUnauthorized(await tokensApp.request("/whoami", { headers }));
  });

  it("reads the secret from a custom header", async () => {
    const custom = appWith({
      tokens: [],
      authentik: { proxySecret: PROXY_SECRET, secretHeader: "x-proxy-secret" },
    });
    const headers = { ...authentikHeaders, "x-proxy-secret": PROXY_SECRET };
    expect((await custom.request("/whoami", { headers })).status).toBe(200);
    // The secret in the wrong header does not count, and the header alone is forward-auth evidence.
    const wrongHeader = { ...authentikHeaders, "x-authentik-proxy-secret": PROXY_SECRET };
    await expectUnauthorized(await custom.request("/whoami", { headers: wrongHeader }));
  });
});

describe("nothing configured", () => {
  const app = appWith(nothing);

  it.each([
    ["no credentials", {}],
    ["some bearer token", bearer(CI_TOKEN)],
    ["an empty bearer token", { authorization: "Bearer " }],
    ["authentik headers", { ...authentikHeaders, "x-authentik-proxy-secret": "" }],
  ])("refuses with 503 given %s", async (_, headers) => {
    const res = await app.request("/whoami", { headers });
    expect(res.status).toBe(503);
    expect(res.headers.get("www-authenticate")).toBeNull();
    expect(await res.json()).toEqual({
      error: "auth_not_configured",
      detail: "Authentication is not configured on this server",
    });
  });

  it("still serves the health probes", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
  });
});

describe("public paths", () => {
  it("serves /healthz and /readyz without credentials, even with forged headers", async () => {
    const app = appWith(tokensOnly);
    expect(await (await app.request("/healthz")).text()).toBe("ok");
    expect((await app.request("/readyz", { headers: authentikHeaders })).status).toBe(200);
  });

  it("matches exactly", async () => {
    const app = appWith(tokensOnly);
    await expectUnauthorized(await app.request("/healthz/"));
    await expectUnauthorized(await app.request("/healthzz"));
  });

  it("can be replaced", async () => {
    const app = appWith(tokensOnly, { publicPaths: ["/whoami"] });
    expect((await app.request("/whoami")).status).toBe(200);
    await expectUnauthorized(await app.request("/healthz"));
  });
});

describe("onError", () => {
  /** The OpenAI-compatible shape. */
  const openAi: AuthOptions["onError"] = (c, failure) =>
    c.json(
      { error: { message: failure.message, type: "invalid_request_error", param: null, code: failure.code } },
      failure.status,
    );

  it("shapes the 401 body and keeps the challenge", async () => {
    const res = await appWith(tokensOnly, { onError: openAi }).request("/whoami");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await res.json()).toEqual({
      error: {
        message: "Missing credentials: send Authorization: Bearer <token>",
        type: "invalid_request_error",
        param: null,
        code: "unauthorized",
      },
    });
  });

  it("shapes the 503 body", async () => {
    const res = await appWith(nothing, { onError: openAi }).request("/whoami");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("auth_not_configured");
  });

  it("adds the challenge to a hand-built response and passes the failure", async () => {
    const failures: AuthFailure[] = [];
    const res = await appWith(tokensOnly, {
      onError: (_c, failure) => {
        failures.push(failure);
        return new Response("nope", { status: failure.status });
      },
    }).request("/whoami", { headers: bearer("wrong") });
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(failures).toEqual([
      { status: 401, code: "unauthorized", message: "Invalid bearer token", reason: "invalid_token" },
    ]);
  });
});

describe("logging", () => {
  it("logs failures with reason and path, successes with the caller's name", async () => {
    const { logger, entries } = captureLogger();
    const app = appWith(tokensOnly, { logger });
    await app.request("/whoami", { headers: bearer("wrong") });
    await app.request("/whoami", { headers: bearer(CI_TOKEN) });
    expect(entries).toEqual([
      { level: "info", fields: { tokens: ["ci", "bot"], authentik: false }, message: "auth configured" },
      {
        level: "warn",
        fields: { method: "GET", path: "/whoami", reason: "invalid_token", status: 401 },
        message: "authentication failed",
      },
      {
        level: "info",
        fields: { method: "GET", path: "/whoami", principal: "ci", via: "bearer" },
        message: "authenticated",
      },
    ]);
  });

  it("warns at creation when nothing is configured", () => {
    const { logger, entries } = captureLogger();
    createAuth(nothing, { logger });
    expect(entries).toEqual([
      { level: "warn", fields: {}, message: "auth not configured: protected routes will answer 503" },
    ]);
  });

  it("never logs a token or the proxy secret, right or wrong", async () => {
    const { logger, lines } = captureLogger();
    const app = appWith(withAuthentik, { logger });
    const wrongToken = "wrong-token-that-must-not-leak";
    const wrongSecret = "wrong-secret-that-must-not-leak";
    await app.request("/whoami", { headers: bearer(CI_TOKEN) });
    await app.request("/whoami", { headers: bearer(wrongToken) });
    await app.request("/whoami", { headers: { authorization: `Basic ${wrongToken}` } });
    await app.request("/whoami", {
      headers: { ...authentikHeaders, "x-authentik-proxy-secret": wrongSecret },
    });
    await app.request("/whoami", {
      headers: { ...authentikHeaders, "x-authentik-proxy-secret": PROXY_SECRET },
    });
    expect(lines.length).toBe(6);
    for (const secret of [CI_TOKEN, BOT_TOKEN, PROXY_SECRET, wrongToken, wrongSecret]) {
      for (const line of lines) expect(line).not.toContain(secret);
    }
    expect(lines.join("\n")).toContain("alice");
  });

  it("works without a logger, or with a logger that has only one level", async () => {
    const warnings: string[] = [];
    const app = appWith(tokensOnly, { logger: { warn: (_f, message) => warnings.push(String(message)) } });
    expect((await app.request("/whoami", { headers: bearer(CI_TOKEN) })).status).toBe(200);
    await app.request("/whoami");
    expect(warnings).toEqual(["authentication failed"]);
  });
});

describe("createAuth", () => {
  it("refuses an invalid hand-built config", () => {
    const duplicate = { tokens: [...tokensOnly.tokens, { name: "ci", token: "other-token-0123456789" }] };
    expect(() => createAuth(duplicate)).toThrow(AuthConfigError);
  });

  it("refuses a token shorter than 16 characters, naming it and not quoting it", () => {
    const short = { tokens: [{ name: "ops", token: "ops-token-12345" }] };
    expect(() => createAuth(short)).toThrow(/tokens\[0\]: token of "ops" is shorter than 16 characters/);
    expect(() => createAuth(short)).not.toThrow(/ops-token-12345/);
  });

  it("types c.var.principal inside a service's own Env", async () => {
    type ServiceEnv = { Variables: AuthVariables & { requestId: string } };
    const app = new Hono<ServiceEnv>();
    app.use(createAuth(tokensOnly));
    app.get("/", (c) => {
      expectTypeOf(c.var.principal).toEqualTypeOf<Principal>();
      return c.text(c.var.principal.name);
    });
    expect(await (await app.request("/", { headers: bearer(CI_TOKEN) })).text()).toBe("ci");
  });
});
