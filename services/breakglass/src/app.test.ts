import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuthConfig, createAuth } from "@claude-gateway/auth";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "./app.js";
import { createChatService } from "./chat.js";
import { SessionTable } from "./core/sessions.js";
import type { SessionView, VerbResult, VmInfo } from "./core/wire.js";
import { SshUnavailableError } from "./errors.js";
import { createMetrics } from "./metrics.js";
import type { PveRunner } from "./ports.js";
import { breakglassReadiness } from "./readiness.js";
import { fakePve, fakeTurns, upstreamError } from "./test-support/fakes.js";
import { NOT_VERBS } from "./test-support/not-verbs.js";
import { kinds, readTurn } from "./test-support/sse-client.js";
import { createVmService } from "./vm.js";

const TOKEN = "alice-token-0123456789";
const PROXY_SECRET = "proxy-secret-0123456789";
const METRICS_TOKEN = "metrics-token-0123456789";
/** Signed in through Authentik (the browser's cookie, vouched for by the trusted proxy). */
const VIA_AUTHENTIK = {
  authorization: "",
  "x-authentik-username": "owner",
  "x-authentik-proxy-secret": PROXY_SECRET,
};
const authConfig: AuthConfig = {
  tokens: [
    { name: "alice", token: TOKEN },
    { name: "bob", token: "bob-token-0123456789" },
  ],
  authentik: { proxySecret: PROXY_SECRET, secretHeader: "x-authentik-proxy-secret" },
};

const uiDir = mkdtempSync(join(tmpdir(), "bg-ui-"));
mkdirSync(join(uiDir, "assets"));
writeFileSync(join(uiDir, "index.html"), "<!doctype html><title>breakglass</title>");
writeFileSync(join(uiDir, "assets", "index-abc123.js"), "console.log(1)");
afterAll(() => rmSync(uiDir, { recursive: true, force: true }));

/** A CLI login by token: the default of `setup`, so readiness does not depend on this machine. */
const LOGGED_IN = { CLAUDE_CODE_OAUTH_TOKEN: "oauth-token-0123456789" };

function setup(
  opts: {
    auth?: AuthConfig;
    ssh?: boolean;
    maxTurns?: number;
    claudeEnv?: Record<string, string>;
    stopping?: () => boolean;
    runner?: PveRunner;
    /** `null`: none configured. */
    metricsToken?: string | null;
    publicOrigin?: string;
  } = {},
) {
  const turns = fakeTurns();
  const pve = fakePve();
  const metrics = createMetrics();
  const logger = pino({ level: "silent" });
  const chat = createChatService({
    turns,
    sessions: new SessionTable({ maxSessions: 5, now: () => new Date(), mintId: () => crypto.randomUUID() }),
    maxConcurrentTurns: opts.maxTurns ?? 2,
    logger,
    onTurnStarted: () => metrics.turnStarted(),
    onTurnFinished: (caller, outcome, s, spend) => metrics.turnFinished(caller, outcome, s, spend),
  });
  const vm = createVmService({
    runner: opts.ssh === false ? undefined : (opts.runner ?? pve),
    unavailable: "SSH_PVE_HOST is not set",
    vmid: 102,
    logger,
    onVerb: (caller, verb, outcome) => metrics.verbFinished(caller, verb, outcome),
  });
  const app = createApp({
    chat,
    vm,
    auth: createAuth(opts.auth ?? authConfig),
    logger,
    metrics,
    readiness: breakglassReadiness({
      claudeEnv: opts.claudeEnv ?? LOGGED_IN,
      stopping: opts.stopping ?? (() => false),
    }),
    uiDir,
    keepaliveMs: 60_000,
    metricsToken: opts.metricsToken === null ? undefined : (opts.metricsToken ?? METRICS_TOKEN),
    ...(opts.publicOrigin ? { publicOrigin: opts.publicOrigin } : {}),
  });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
  const newSession = async (who = TOKEN): Promise<string> =>
    (
      (await (
        await call("POST", "/api/sessions", undefined, { authorization: `Bearer ${who}` })
      ).json()) as SessionView
    ).id;
  return { app, call, turns, pve, metrics, newSession };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = async (res: Response): Promise<any> => JSON.parse(await res.text());

const SID = "6f1c2a3b-1111-4222-8333-944445555666";
/** Every route behind the callers' auth, with what it would do if it ran (`/metrics` has its own token). */
const ROUTES: Array<[string, string, unknown?]> = [
  ["GET", "/api/me"],
  ["GET", "/api/sessions"],
  ["POST", "/api/sessions", {}],
  ["GET", `/api/sessions/${SID}`],
  ["POST", `/api/sessions/${SID}/messages`, { text: "hi" }],
  ["GET", `/api/sessions/${SID}/current`],
  ["DELETE", `/api/sessions/${SID}/current`],
  ["GET", "/api/vm"],
  ["POST", "/api/vm/status"],
  ["POST", "/api/vm/reset", { confirm: "reset" }],
  ["POST", "/api/vm/nope"],
  ["GET", "/api/nowhere"],
  ["GET", "/nowhere"],
  ["POST", "/"],
];

describe("auth gating", () => {
  it.each<[string, Record<string, string>]>([
    ["no credentials", { authorization: "" }],
    ["a wrong token", { authorization: "Bearer wrong-token-0123456789" }],
    ["Basic auth", { authorization: "Basic YWxpY2U6eA==" }],
    ["Authentik headers without the proxy secret", { authorization: "", "x-authentik-username": "alice" }],
    [
      "Authentik headers with a wrong proxy secret",
      { authorization: "", "x-authentik-username": "alice", "x-authentik-proxy-secret": "nope" },
    ],
  ])("%s ⇒ 401 on every route, and nothing runs", async (_name, headers) => {
    const { call, turns, pve } = setup();
    for (const [method, path, body] of ROUTES) {
      const res = await call(method, path, body, headers);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect((await json(res)).error).toBe("unauthorized");
    }
    expect(turns.calls).toEqual([]);
    expect(pve.calls).toEqual([]);
  });

  it("auth not configured ⇒ 503 on every route (fail closed)", async () => {
    const { call, pve } = setup({ auth: { tokens: [] } });
    for (const [method, path, body] of ROUTES) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(503);
      expect((await json(res)).error).toBe("auth_not_configured");
    }
    expect(pve.calls).toEqual([]);
  });

  it("a bearer token or the proxy's Authentik headers get in", async () => {
    const { call } = setup();
    expect(await json(await call("GET", "/api/me"))).toEqual({ name: "alice", via: "bearer" });
    const viaProxy = await call("GET", "/api/me", undefined, {
      authorization: "",
      "x-authentik-username": "owner",
      "x-authentik-proxy-secret": PROXY_SECRET,
    });
    expect(await json(viaProxy)).toEqual({ name: "owner", via: "authentik" });
  });

  it("/metrics: the metrics token only; no caller's credentials open it", async () => {
    const { call } = setup();
    const ok = await call("GET", "/metrics", undefined, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("http_request_duration_seconds");
    for (const headers of [{ authorization: "" }, VIA_AUTHENTIK, { authorization: "Basic eDp5" }]) {
      const res = await call("GET", "/metrics", undefined, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error).toBe("unauthorized");
    }
    const none = setup({ metricsToken: null, auth: { tokens: [] } });
    const res = await none.call("GET", "/metrics", undefined, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toBe("metrics_not_configured");
  });

  it("open: /healthz, /readyz and the UI's static shell (no secret in it)", async () => {
    const { app } = setup();
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
    const index = await app.request("/");
    expect(index.status).toBe(200);
    expect(await index.text()).toContain("<title>breakglass</title>");
    expect(index.headers.get("content-security-policy")).toContain("default-src 'self'");
    const asset = await app.request("/assets/index-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    // A missing asset is a plain 404; anything beside the shell is behind auth like the rest.
    expect((await app.request("/assets/missing.js")).status).toBe(404);
    expect((await app.request("/assets/deeper/x.js")).status).toBe(401);
    expect((await app.request("/dist/main.js")).status).toBe(401);
  });
});

describe("readiness (/readyz)", () => {
  const home = mkdtempSync(join(tmpdir(), "bg-home-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("not ready while the CLI has no login (503 with the reason), ready once it has one", async () => {
    const { app } = setup({ claudeEnv: { HOME: home } });
    const before = await app.request("/readyz");
    expect(before.status).toBe(503);
    const body = await json(before);
    expect(body.ready).toBe(false);
    expect(body.reason).toMatch(/^claude_not_authenticated: the claude CLI has no login/);
    // `claude /login` writes the credentials under HOME: ready without a restart.
    mkdirSync(join(home, ".claude"), { recursive: true });
    writeFileSync(join(home, ".claude", ".credentials.json"), "{}");
    const after = await app.request("/readyz");
    expect(after.status).toBe(200);
    expect(await json(after)).toEqual({ ready: true });
  });

  it("a login token in the CLI's environment is ready too", async () => {
    const { app } = setup({ claudeEnv: { HOME: "/nonexistent", ...LOGGED_IN } });
    expect((await app.request("/readyz")).status).toBe(200);
  });

  it("SSH not configured is not a reason: the console must open to say so", async () => {
    const { app, call } = setup({ ssh: false });
    expect(await json(await app.request("/readyz"))).toEqual({ ready: true });
    expect((await json(await call("GET", "/api/vm"))).available).toBe(false);
  });

  it("not ready while shutting down", async () => {
    let stopping = false;
    const { app } = setup({ stopping: () => stopping });
    expect((await app.request("/readyz")).status).toBe(200);
    stopping = true;
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({ ready: false, reason: "shutting down" });
  });
});

describe("error envelope", () => {
  it("an unknown route (after auth) is a 404 naming it; the request id is echoed", async () => {
    const { call } = setup();
    const res = await call("GET", "/api/nowhere", undefined, { "x-request-id": "req-123" });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(await json(res)).toEqual({ error: "not_found", detail: "no route GET /api/nowhere" });
  });

  it("an invalid body lists its issues; a non-JSON body is a 415", async () => {
    const { call, newSession } = setup();
    const id = await newSession();
    const res = await call("POST", `/api/sessions/${id}/messages`, { text: "x", model: "opus" });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({ error: "invalid_request", detail: "the request body is not valid" });
    expect(body.issues).toEqual([{ path: "(body)", message: expect.stringContaining("model") }]);
    const text = await call("POST", "/api/vm/reset", "confirm=reset", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect(await json(text)).toEqual({
      error: "unsupported_media_type",
      detail: "send the body as application/json",
    });
  });

  it("a verb failing after its stream started answers 200 with the envelope in the body", async () => {
    const { call } = setup({
      runner: {
        run: async () => {
          throw new SshUnavailableError("cannot run ssh (ENOENT)");
        },
      },
    });
    const res = await call("POST", "/api/vm/status");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      error: "ssh_unavailable",
      detail: "the VM verbs are unavailable: cannot run ssh (ENOENT)",
    });
  });
});

describe("power verbs", () => {
  it.each(NOT_VERBS.filter((v) => v !== ""))("%j ⇒ 400 unknown_verb, nothing runs", async (verb) => {
    const { call, pve } = setup();
    const res = await call("POST", `/api/vm/${encodeURIComponent(verb)}`, { confirm: verb });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("unknown_verb");
    expect(pve.calls).toEqual([]);
  });

  it.each([
    "/api/vm/",
    "/api/vm/status/",
    "/api/vm/status/extra",
    "/api/vm/..%2Fstatus",
    "/api/vm/reset%0Astatus",
  ])("path trick %s ⇒ 400, nothing runs", async (path) => {
    const { call, pve } = setup();
    const res = await call("POST", path, { confirm: "reset" });
    expect(res.status).toBe(400);
    expect(pve.calls).toEqual([]);
  });

  it("read-only verbs run without confirmation and answer text with the exit status", async () => {
    const { call, pve } = setup();
    const res = await call("POST", "/api/vm/status");
    expect(res.status).toBe(200);
    const body = (await json(res)) as VerbResult;
    expect(body).toMatchObject({ verb: "status", vmid: 102, ok: true, exitCode: 0, truncated: false });
    expect(body.output).toContain("status: running");
    expect(pve.calls).toEqual(["status"]);
  });

  it.each(["reset", "stop", "start", "cycle"])("%s needs {confirm: '%s'}", async (verb) => {
    const { call, pve } = setup();
    for (const body of [
      undefined,
      {},
      { confirm: true },
      { confirm: "status" },
      { confirm: verb, vmid: 1 },
    ]) {
      const res = await call("POST", `/api/vm/${verb}`, body);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("confirmation_required");
    }
    expect(pve.calls).toEqual([]);
    const ok = await call("POST", `/api/vm/${verb}`, { confirm: verb });
    expect(ok.status).toBe(200);
    expect(await json(ok)).toMatchObject({ verb, ok: true });
    expect(pve.calls).toEqual([verb]);
  });

  it("a body must be JSON", async () => {
    const { call, pve } = setup();
    expect(
      (await call("POST", "/api/vm/reset", "confirm=reset", { "content-type": "text/plain" })).status,
    ).toBe(415);
    expect((await call("POST", "/api/vm/reset", "{nope")).status).toBe(400);
    expect(pve.calls).toEqual([]);
  });

  it("one mutating verb at a time (409); read-only verbs still run", async () => {
    const { call, pve } = setup();
    pve.hold();
    const first = call("POST", "/api/vm/cycle", { confirm: "cycle" });
    await expect.poll(() => pve.calls.length).toBe(1);
    const second = await call("POST", "/api/vm/reset", { confirm: "reset" });
    expect(second.status).toBe(409);
    expect((await json(second)).error).toBe("vm_busy");
    const info = (await json(await call("GET", "/api/vm"))) as VmInfo;
    expect(info.running).toEqual(["cycle"]);
    pve.release();
    expect((await call("POST", "/api/vm/status")).status).toBe(200);
    expect((await first).status).toBe(200);
    const after = (await json(await call("GET", "/api/vm"))) as VmInfo;
    expect(after.running).toEqual([]);
    expect(after.recent.map((r) => r.verb)).toEqual(["status", "cycle"]);
  });

  it("without SSH: GET /api/vm says why, and every verb is a 503 with the reason", async () => {
    const { call } = setup({ ssh: false });
    expect(await json(await call("GET", "/api/vm"))).toMatchObject({
      vmid: 102,
      available: false,
      reason: "SSH_PVE_HOST is not set",
    });
    const res = await call("POST", "/api/vm/status");
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({
      error: "ssh_unavailable",
      detail: "the VM verbs are unavailable: SSH_PVE_HOST is not set",
    });
    // The whitelist and confirmation still come first.
    expect((await call("POST", "/api/vm/nope")).status).toBe(400);
    expect((await call("POST", "/api/vm/reset")).status).toBe(400);
  });
});

describe("chat", () => {
  it("a turn streams session, text, tool call and result, result, done; history keeps it", async () => {
    const { call, newSession, turns } = setup();
    const id = await newSession();
    const res = await call("POST", `/api/sessions/${id}/messages`, { text: "Is the VM up?" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readTurn(res);
    expect(kinds(events)).toEqual(["session", "text", "tool:call", "tool:result", "text", "result", "done"]);
    expect(events.map((e) => e.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events[0]?.event).toEqual({ type: "session", sessionId: id, resumed: false });
    expect(turns.calls[0]).toMatchObject({ sessionId: id, resume: false, prompt: "Is the VM up?" });

    const view = (await json(await call("GET", `/api/sessions/${id}`))) as SessionView;
    expect(view).toMatchObject({ id, running: false, lastSeq: 6 });
    expect(view.history).toMatchObject([
      { role: "user", text: "Is the VM up?" },
      {
        role: "assistant",
        parts: [
          { type: "text", text: "Checking the VM." },
          { type: "tool", tool: { name: "Bash", isError: false } },
          { type: "text", text: "The VM is up: 3 days." },
        ],
        complete: true,
        costUsd: 0.00224,
      },
    ]);

    // The second turn resumes the CLI session.
    const second = await readTurn(await call("POST", `/api/sessions/${id}/messages`, { text: "thanks" }));
    expect(second[0]?.event).toEqual({ type: "session", sessionId: id, resumed: true });
    expect(turns.calls[1]).toMatchObject({ resume: true });
  });

  it("one turn at a time per session (409); a stop ends it with a cancelled error", async () => {
    const { call, newSession, turns } = setup();
    const id = await newSession();
    turns.hold();
    const res = await call("POST", `/api/sessions/${id}/messages`, { text: "go" });
    const reading = readTurn(res);
    await expect.poll(() => turns.calls.length).toBe(1);
    const busy = await call("POST", `/api/sessions/${id}/messages`, { text: "again" });
    expect(busy.status).toBe(409);
    expect((await json(busy)).error).toBe("turn_running");
    expect((await call("DELETE", `/api/sessions/${id}/current`)).status).toBe(202);
    const events = await reading;
    expect(events.at(-2)?.event).toMatchObject({ type: "error", error: "cancelled" });
    expect(events.at(-1)?.event).toEqual({ type: "done" });
    expect((await call("DELETE", `/api/sessions/${id}/current`)).status).toBe(409);
    turns.release();
  });

  it("a dropped client can reattach and replay from its last event id", async () => {
    const { call, newSession, turns } = setup();
    const id = await newSession();
    turns.hold();
    const res = await call("POST", `/api/sessions/${id}/messages`, { text: "go" });
    // Read until the held turn's first text, then drop the connection.
    const first = (await readTurn(res, { hangUpAfter: (e) => e.event.type === "text" })).map((e) => e.id);
    expect(first).toEqual([0, 1]);
    expect((await json(await call("GET", `/api/sessions/${id}`))).running).toBe(true);
    const last = first.at(-1)!;
    const reattached = call("GET", `/api/sessions/${id}/current?after=${last}`);
    turns.release();
    const rest = await readTurn(await reattached);
    expect(rest[0]?.id).toBe(last + 1);
    expect(kinds(rest).at(-1)).toBe("done");
    // After the end, replaying from the start gives the whole turn, Last-Event-ID works too.
    const replay = await readTurn(await call("GET", `/api/sessions/${id}/current`));
    expect(replay.map((e) => e.id)).toEqual([...first, ...rest.map((e) => e.id)]);
    const tail = await readTurn(
      await call("GET", `/api/sessions/${id}/current`, undefined, { "last-event-id": "5" }),
    );
    expect(tail.map((e) => e.id)).toEqual([6]);
  });

  it("a failed turn streams its error, still counts its cost, and the session goes on", async () => {
    const { call, newSession, turns, metrics } = setup();
    const id = await newSession();
    turns.failNext(upstreamError());
    const events = await readTurn(await call("POST", `/api/sessions/${id}/messages`, { text: "go" }));
    expect(events.at(-2)?.event).toMatchObject({
      type: "error",
      error: "upstream_error",
      detail: "API Error: 529 Overloaded",
      retryable: true,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('breakglass_turns_total{caller="alice",outcome="upstream_error"} 1');
    expect((await call("POST", `/api/sessions/${id}/messages`, { text: "again" })).status).toBe(200);
  });

  it("the running-turn cap is global (429 with Retry-After)", async () => {
    const { call, newSession, turns } = setup({ maxTurns: 1 });
    const a = await newSession();
    const b = await newSession();
    turns.hold();
    const running = readTurn(await call("POST", `/api/sessions/${a}/messages`, { text: "go" }));
    const res = await call("POST", `/api/sessions/${b}/messages`, { text: "go" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(await json(res)).toMatchObject({ error: "too_many_turns", retry_after_seconds: 10 });
    turns.release();
    await running;
  });

  it("sessions are their owner's: another caller gets 404", async () => {
    const { call, newSession } = setup();
    const id = await newSession();
    const bob = { authorization: "Bearer bob-token-0123456789" };
    expect((await call("GET", `/api/sessions/${id}`, undefined, bob)).status).toBe(404);
    expect((await call("POST", `/api/sessions/${id}/messages`, { text: "x" }, bob)).status).toBe(404);
    expect((await call("DELETE", `/api/sessions/${id}/current`, undefined, bob)).status).toBe(404);
    expect((await call("POST", "/api/sessions", { id }, bob)).status).toBe(409);
    expect((await json(await call("GET", "/api/sessions", undefined, bob))).sessions).toEqual([]);
  });

  it("adopting a session by id (after a restart) resumes the CLI session", async () => {
    const { call, turns } = setup();
    const created = await call("POST", "/api/sessions", { id: SID });
    expect(created.status).toBe(201);
    expect((await call("POST", "/api/sessions", { id: SID })).status).toBe(200);
    await readTurn(await call("POST", `/api/sessions/${SID}/messages`, { text: "1" }));
    expect(turns.calls[0]?.resume).toBe(false);
  });

  it.each<[string, string, unknown, number, string]>([
    ["an empty message", "messages", { text: "  " }, 400, "invalid_request"],
    ["an unknown field", "messages", { text: "x", model: "opus" }, 400, "invalid_request"],
    ["no body", "messages", undefined, 400, "invalid_request"],
    ["a huge message", "messages", { text: "x".repeat(70_000) }, 413, "body_too_large"],
    ["a bad session id", "../x", { text: "x" }, 404, "not_found"],
  ])("refuses %s", async (_name, tail, body, status, code) => {
    const { call, newSession, turns } = setup();
    const id = await newSession();
    const path = tail === "messages" ? `/api/sessions/${id}/messages` : `/api/sessions/${tail}/messages`;
    const res = await call("POST", path, body);
    expect(res.status).toBe(status);
    expect((await json(res)).error).toBe(code);
    expect(turns.calls).toEqual([]);
  });

  it("POST /api/sessions refuses ids that are not lowercase UUIDs", async () => {
    const { call } = setup();
    for (const id of ["x", "../../etc", SID.toUpperCase()]) {
      expect((await call("POST", "/api/sessions", { id })).status).toBe(400);
    }
  });

  it("spend lands in /metrics per caller and model", async () => {
    const { call, newSession } = setup();
    const id = await newSession();
    await readTurn(await call("POST", `/api/sessions/${id}/messages`, { text: "go" }));
    await call("POST", "/api/vm/status");
    const text = await (
      await call("GET", "/metrics", undefined, { authorization: `Bearer ${METRICS_TOKEN}` })
    ).text();
    expect(text).toContain('claude_cost_usd_total{caller="alice",model="claude-opus-4-8"} 0.00224');
    expect(text).toContain('claude_tokens_total{caller="alice",model="claude-opus-4-8",kind="input"} 323');
    expect(text).toContain('breakglass_vm_verbs_total{caller="alice",verb="status",outcome="ok"} 1');
  });
});

describe("cross-site requests: Authentik's cookie rides along, so changes must come from the console's page", () => {
  const evil = "https://evil.example";

  it.each<[string, Record<string, string>]>([
    ["another site's Origin", { origin: evil }],
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site", origin: evil }],
    ["Sec-Fetch-Site: same-site (another host of the domain)", { "sec-fetch-site": "same-site" }],
    ["Sec-Fetch-Site: none (no page)", { "sec-fetch-site": "none" }],
    ["Origin: null (a sandboxed frame, a redirect)", { origin: "null" }],
    ["neither Origin nor Sec-Fetch-Site", {}],
    ["an Origin on another port", { origin: "http://localhost:8080" }],
  ])("%s ⇒ 403 cross_site_request on every change, and nothing runs", async (_n, headers) => {
    const { call, turns, pve, newSession } = setup();
    const id = await newSession();
    const changes: Array<[string, string, unknown]> = [
      ["POST", "/api/sessions", {}],
      ["POST", `/api/sessions/${id}/messages`, { text: "hi" }],
      ["DELETE", `/api/sessions/${id}/current`, undefined],
      ["POST", "/api/vm/status", undefined],
      ["POST", "/api/vm/reset", { confirm: "reset" }],
      ["PUT", "/api/vm", {}],
      ["PATCH", "/api/sessions", {}],
    ];
    for (const [method, path, body] of changes) {
      const res = await call(method, path, body, { ...VIA_AUTHENTIK, ...headers });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect((await json(res)).error).toBe("cross_site_request");
    }
    expect(turns.calls).toEqual([]);
    expect(pve.calls).toEqual([]);
    expect((await json(await call("GET", "/api/sessions", undefined, VIA_AUTHENTIK))).sessions).toEqual([]);
  });

  it("the classic attack, a text/plain form post to a power verb, is refused before anything runs", async () => {
    const { app, pve } = setup();
    const res = await app.request("/api/vm/cycle", {
      method: "POST",
      headers: {
        ...VIA_AUTHENTIK,
        "content-type": "text/plain",
        origin: evil,
        "sec-fetch-site": "cross-site",
      },
      body: '{"confirm":"cycle"}',
    });
    expect(res.status).toBe(403);
    expect(pve.calls).toEqual([]);
  });

  it.each<[string, Record<string, string>, string?]>([
    ["Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin" }],
    ["an Origin equal to the host it was sent to", { origin: "http://localhost" }],
    [
      "an Origin equal to the ingress's X-Forwarded-Host (default port)",
      { origin: "https://bg.example.com", "x-forwarded-host": "bg.example.com:443" },
    ],
    [
      "the configured BREAKGLASS_PUBLIC_ORIGIN",
      { origin: "https://bg.example.com" },
      "https://bg.example.com",
    ],
  ])("same origin passes: %s", async (_n, headers, publicOrigin) => {
    const { call } = setup(publicOrigin ? { publicOrigin } : {});
    const res = await call("POST", "/api/sessions", {}, { ...VIA_AUTHENTIK, ...headers });
    expect(res.status).toBe(201);
  });

  it("with BREAKGLASS_PUBLIC_ORIGIN set, only that origin passes (not merely the request's host)", async () => {
    const { call } = setup({ publicOrigin: "https://bg.example.com" });
    for (const origin of ["http://localhost", "http://bg.example.com", "https://bg.example.com:8443"]) {
      const res = await call("POST", "/api/sessions", {}, { ...VIA_AUTHENTIK, origin });
      expect(res.status, origin).toBe(403);
    }
  });

  it("reads are not checked; nor is a bearer token, which no browser sends by itself", async () => {
    const { call, pve } = setup();
    const read = await call("GET", "/api/vm", undefined, { ...VIA_AUTHENTIK, origin: evil });
    expect(read.status).toBe(200);
    const bearer = await call("POST", "/api/vm/status", undefined, {
      origin: evil,
      "sec-fetch-site": "cross-site",
    });
    expect(bearer.status).toBe(200);
    expect(pve.calls).toHaveLength(1);
  });
});
