import { forbiddenFetch } from "@claude-gateway/afk-adapters/testing";
import { describe, expect, it } from "vitest";
import { runPoller } from "../src/run.js";
import { recordingLogger } from "./helpers.js";

const noAdapters = () => {
  throw new Error("a disabled tick must not build adapters");
};

const armedButKilled = {
  AFK_REPO_ALLOWLIST: "acme/app",
  AFK_TRACKER_URL: "http://127.0.0.1:9",
  AFK_TRACKER_TOKEN: "x",
  T3_URL: "http://127.0.0.1:9",
  T3_TOKEN: "x",
  T3_WORKSPACE_ROOT: "/srv/{name}",
  SLACK_WEBHOOK_URL: "http://127.0.0.1:9/hook",
};

describe("poller: disabled by default", () => {
  it.each([
    ["no configuration at all", {}],
    [
      "kill switch cleared, allowlist empty",
      { ...armedButKilled, AFK_KILL_SWITCH: "off", AFK_REPO_ALLOWLIST: "" },
    ],
    ["everything configured, kill switch left at its default", armedButKilled],
    ["everything configured, kill switch on", { ...armedButKilled, AFK_KILL_SWITCH: "on" }],
    ["a kill-switch typo", { ...armedButKilled, AFK_KILL_SWITCH: "offf" }],
  ])("%s: exit 0, logs why, zero network calls, no adapters", async (_, env) => {
    const fetch = forbiddenFetch();
    const logger = recordingLogger();
    const result = await runPoller({ env, fetch, logger, makeAdapters: noAdapters });
    expect(result).toMatchObject({ exitCode: 0, disabled: true });
    expect(fetch.calls).toEqual([]);
    expect(logger.lines.find((l) => l.msg?.includes("disabled"))).toBeDefined();
  });

  it("the default adapters are not even built: the real factory with a throwing fetch stays untouched", async () => {
    const fetch = forbiddenFetch();
    const result = await runPoller({ env: {}, fetch, logger: recordingLogger() });
    expect(result.exitCode).toBe(0);
    expect(fetch.calls).toEqual([]);
  });

  it("an armed but invalid configuration fails fast, listing the problems, before any call", async () => {
    const fetch = forbiddenFetch();
    const logger = recordingLogger();
    const result = await runPoller({
      env: { AFK_KILL_SWITCH: "off", AFK_REPO_ALLOWLIST: "acme/app" },
      fetch,
      logger,
      makeAdapters: noAdapters,
    });
    expect(result.exitCode).toBe(1);
    expect(fetch.calls).toEqual([]);
    const line = logger.lines.find((l) => l.level === "error");
    expect(JSON.stringify(line?.obj)).toContain("T3_URL");
  });
});
