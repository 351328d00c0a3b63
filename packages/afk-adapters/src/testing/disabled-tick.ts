import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { recordingLogger } from "@claude-gateway/testkit";
import { describe, expect, it } from "vitest";
import type { RunIo, RunResult } from "../run-tick.js";
import { forbiddenFetch } from "./guarded-fetch.js";

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

/**
 * The suite every AFK tick passes in process: shipped disabled, a closed gate makes no network
 * call and builds no adapter, an armed but invalid configuration fails before any call.
 */
export function describeDisabledTick(name: string, run: (io: RunIo) => Promise<RunResult<unknown>>): void {
  describe(`${name}: disabled by default`, () => {
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
      const result = await run({ env, fetch, logger, makeAdapters: noAdapters });
      expect(result).toMatchObject({ exitCode: 0, disabled: true });
      expect(fetch.calls).toEqual([]);
      expect(logger.lines.find((l) => l.msg?.includes("disabled"))).toBeDefined();
    });

    it("the default adapters are not even built: the real factory with a throwing fetch stays untouched", async () => {
      const fetch = forbiddenFetch();
      const result = await run({ env: {}, fetch, logger: recordingLogger() });
      expect(result.exitCode).toBe(0);
      expect(fetch.calls).toEqual([]);
    });

    it("an armed but invalid configuration fails fast, listing the problems, before any call", async () => {
      const fetch = forbiddenFetch();
      const logger = recordingLogger();
      const result = await run({
        env: { AFK_KILL_SWITCH: "off", AFK_REPO_ALLOWLIST: "acme/app" },
        fetch,
        logger,
        makeAdapters: noAdapters,
      });
      expect(result.exitCode).toBe(1);
      expect(fetch.calls).toEqual([]);
      const line = logger.lines.find((l) => l.level === "error");
      expect(JSON.stringify(line?.fields)).toContain("T3_URL");
    });
  });
}

/**
 * The same as a process: the service's built `dist/main.js` with no configuration at all exits 0
 * and logs, under the service's name, why the loop is disabled.
 */
export function describeDisabledMain(name: string, pkg: string, main: URL): void {
  const path = fileURLToPath(main);
  describe(`${name} process (dist/main.js)`, () => {
    it("with no configuration at all: exits 0 and logs that the loop is disabled", () => {
      expect(existsSync(path), `build first: pnpm --filter @claude-gateway/${pkg} build`).toBe(true);
      const res = spawnSync(process.execPath, [path], {
        env: { PATH: process.env.PATH ?? "" },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(res.status).toBe(0);
      const lines = res.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toContainEqual(
        expect.objectContaining({
          service: pkg,
          msg: expect.stringContaining("disabled"),
          reasons: ["AFK_KILL_SWITCH is on", "AFK_REPO_ALLOWLIST is empty"],
        }),
      );
    });
  });
}
