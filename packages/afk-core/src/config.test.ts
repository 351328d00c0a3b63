import { describe, expect, it } from "vitest";
import {
  type AfkConfig,
  ConfigError,
  describeConfig,
  loadConfig,
  parseAllowlist,
  parseStallByPhase,
} from "./config.js";

const armed = {
  AFK_KILL_SWITCH: "off",
  AFK_REPO_ALLOWLIST: "acme/app",
  AFK_TRACKER_URL: "https://git.example/",
  AFK_TRACKER_TOKEN: "tracker-secret",
  T3_URL: "http://t3.internal:3773",
  T3_TOKEN: "t3-secret",
  T3_WORKSPACE_ROOT: "/home/agent/src/{name}",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/X",
};

function load(env: Record<string, string>): AfkConfig {
  const c = loadConfig(env);
  if (!c.armed) throw new Error(`expected armed, got ${c.reasons.join("; ")}`);
  return c;
}

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: the two gates", () => {
  it.each([
    {
      name: "no configuration at all",
      env: {},
      reasons: ["AFK_KILL_SWITCH is on", "AFK_REPO_ALLOWLIST is empty"],
    },
    {
      name: "kill switch cleared, no allowlist",
      env: { AFK_KILL_SWITCH: "off" },
      reasons: ["AFK_REPO_ALLOWLIST is empty"],
    },
    {
      name: "allowlist, kill switch default",
      env: { AFK_REPO_ALLOWLIST: "acme/app" },
      reasons: ["AFK_KILL_SWITCH is on"],
    },
    {
      name: "allowlist, kill switch on",
      env: { ...armed, AFK_KILL_SWITCH: "on" },
      reasons: ["AFK_KILL_SWITCH is on"],
    },
    {
      name: "kill switch 'true'",
      env: { ...armed, AFK_KILL_SWITCH: "true" },
      reasons: ["AFK_KILL_SWITCH is on"],
    },
    {
      name: "a typo keeps it on",
      env: { ...armed, AFK_KILL_SWITCH: "of" },
      reasons: ["AFK_KILL_SWITCH is on"],
    },
    {
      name: "blank allowlist",
      env: { ...armed, AFK_REPO_ALLOWLIST: " , " },
      reasons: ["AFK_REPO_ALLOWLIST is empty"],
    },
  ])("$name → disabled", ({ env, reasons }) => {
    const c = loadConfig(env);
    expect(c.armed).toBe(false);
    if (!c.armed) expect(c.reasons).toEqual(reasons);
  });

  it("disabled needs nothing else, and survives junk in the other variables", () => {
    const c = loadConfig({ MAX_FIX_FORWARDS: "lots", T3_URL: "nope", LOG_LEVEL: "loud" });
    expect(c).toMatchObject({ armed: false, logLevel: "info" });
    expect(c.warnings).toEqual(['LOG_LEVEL="loud" is not a pino level: using info']);
  });

  it("warns about a kill-switch typo", () => {
    expect(loadConfig({ AFK_KILL_SWITCH: "disabled" }).warnings[0]).toMatch(/neither on nor off/);
  });

  it.each(["off", "OFF", "0", "false", "no", " off "])("AFK_KILL_SWITCH=%j clears the switch", (value) => {
    expect(load({ ...armed, AFK_KILL_SWITCH: value }).armed).toBe(true);
  });
});

describe("loadConfig: armed", () => {
  it("applies the documented defaults", () => {
    const c = load(armed);
    expect(c).toMatchObject({
      allowlist: ["acme/app"],
      tracker: { kind: "forgejo", url: "https://git.example", token: "tracker-secret" },
      t3: { url: "http://t3.internal:3773", model: "claude-sonnet-4-6", modelInstance: "claudeAgent" },
      labels: {
        ready: "ready-for-agent",
        inProgress: "agent-in-progress",
        human: "ready-for-human",
        stalled: "agent-stalled",
      },
      limits: {
        maxFixForwards: 3,
        stallMinutes: 60,
        maxDispatchPerTick: 1,
        queueStallMinutes: 240,
        t3UnreachableMinutes: 30,
        stallMinutesByPhase: {},
      },
      deployContext: null,
      httpTimeoutMs: 15000,
    });
  });

  it("github defaults its API URL", () => {
    const { AFK_TRACKER_URL: _, ...env } = armed;
    expect(load({ ...env, AFK_TRACKER: "github" }).tracker.url).toBe("https://api.github.com");
  });

  it("parses lists and overrides", () => {
    const c = load({
      ...armed,
      AFK_REPO_ALLOWLIST: "acme/app, acme/api acme/app",
      MAX_FIX_FORWARDS: "0",
      AFK_STALL_MINUTES_BY_PHASE: "ci-running=30, dispatched=120",
      AFK_DEPLOY_CONTEXT: "deploy/production",
      AFK_T3_UNREACHABLE_MINUTES: "45",
    });
    expect(c.allowlist).toEqual(["acme/app", "acme/api"]);
    expect(c.limits.maxFixForwards).toBe(0);
    expect(c.limits.stallMinutesByPhase).toEqual({ "ci-running": 30, dispatched: 120 });
    expect(c.deployContext).toBe("deploy/production");
    expect(c.limits.t3UnreachableMinutes).toBe(45);
  });

  it.each([
    {
      name: "missing secrets and URLs",
      env: { AFK_KILL_SWITCH: "off", AFK_REPO_ALLOWLIST: "acme/app" },
      match: [
        /AFK_TRACKER_URL: required for forgejo/,
        /AFK_TRACKER_TOKEN/,
        /T3_URL/,
        /T3_TOKEN/,
        /T3_WORKSPACE_ROOT/,
        /SLACK_WEBHOOK_URL/,
      ],
    },
    { name: "forgejo needs its URL", env: { ...armed, AFK_TRACKER_URL: "" }, match: [/AFK_TRACKER_URL/] },
    {
      name: "wildcards are not repositories",
      env: { ...armed, AFK_REPO_ALLOWLIST: "acme/*" },
      match: [/not owner\/name/],
    },
    { name: "a bad number", env: { ...armed, STALL_MINUTES: "0" }, match: [/STALL_MINUTES/] },
    {
      name: "a bad T3 outage limit",
      env: { ...armed, AFK_T3_UNREACHABLE_MINUTES: "0" },
      match: [/AFK_T3_UNREACHABLE_MINUTES/],
    },
    {
      name: "a T3 outage limit that is not a number",
      env: { ...armed, AFK_T3_UNREACHABLE_MINUTES: "half an hour" },
      match: [/AFK_T3_UNREACHABLE_MINUTES/],
    },
    {
      name: "a bad per-phase limit",
      env: { ...armed, AFK_STALL_MINUTES_BY_PHASE: "testing=5" },
      match: [/unknown phase/],
    },
    { name: "a relative workspace", env: { ...armed, T3_WORKSPACE_ROOT: "src/{name}" }, match: [/absolute/] },
    {
      name: "one checkout for many repos",
      env: { ...armed, AFK_REPO_ALLOWLIST: "a/b,a/c", T3_WORKSPACE_ROOT: "/srv" },
      match: [/\{name\}/],
    },
    {
      name: "labels must differ",
      env: { ...armed, AFK_LABEL_HUMAN: "ready-for-agent" },
      match: [/must differ/],
    },
    {
      name: "a non-http webhook",
      env: { ...armed, SLACK_WEBHOOK_URL: "ftp://x" },
      match: [/SLACK_WEBHOOK_URL/],
    },
  ])("fails fast listing every problem: $name", ({ env, match }) => {
    const found = problems(env);
    for (const m of match) expect(found.some((p) => m.test(p))).toBe(true);
  });

  it("never puts a secret in the description", () => {
    const text = JSON.stringify(describeConfig(load(armed)));
    expect(text).not.toContain("secret");
    expect(text).not.toContain("hooks.slack.com");
  });
});

describe("parsers", () => {
  it("parseAllowlist splits on commas and whitespace, dedupes, keeps invalid apart", () => {
    expect(parseAllowlist("a/b,\n c/d a/b  x *")).toEqual({ repos: ["a/b", "c/d"], invalid: ["x", "*"] });
    expect(parseAllowlist(undefined)).toEqual({ repos: [], invalid: [] });
  });
  it("parseStallByPhase reports every bad entry", () => {
    expect(parseStallByPhase("pushed=0,nope=3,ci-green=x").problems).toHaveLength(3);
  });
});
