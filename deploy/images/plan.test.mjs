import { describe, expect, it } from "vitest";
import { buildArgs, formatReport, imageName, overBudget, parseArgs } from "./plan.mjs";

const known = ["executor", "openai-gateway", "afk-poller"];

describe("parseArgs", () => {
  it("builds every service by default, tagged dev, from the Dockerfile's own base", () => {
    expect(parseArgs([], {}, known)).toEqual({ base: undefined, tag: "dev", services: known });
  });
  it("takes the base and tag from the command line over the environment, and chosen services", () => {
    const env = { IMAGES_BASE: "env-base", IMAGES_TAG: "env-tag" };
    expect(parseArgs([], env, known)).toMatchObject({ base: "env-base", tag: "env-tag" });
    expect(parseArgs(["--base", "b", "--tag", "t", "executor"], env, known)).toEqual({
      base: "b",
      tag: "t",
      services: ["executor"],
    });
  });
  it("refuses an unknown service, an unknown option and an option without its value", () => {
    expect(() => parseArgs(["gateway"], {}, known)).toThrow(/gateway is no service/);
    expect(() => parseArgs(["--push"], {}, known)).toThrow(/unknown option --push/);
    expect(() => parseArgs(["--base"], {}, known)).toThrow(/--base needs a value/);
  });
});

describe("buildArgs", () => {
  it("passes the service, its port, runtime packages, runner users and the base", () => {
    const entry = { port: 8082, runtimePackages: ["git", "git-crypt"], runnerUsers: 16 };
    expect(buildArgs(entry, "executor", "localhost/base:1")).toEqual([
      "SERVICE=executor",
      "PORT=8082",
      "RUNTIME_PACKAGES=git git-crypt",
      "RUNNER_USERS=16",
      "NODE_IMAGE=localhost/base:1",
    ]);
  });
  it("leaves out what a service does not set (a CronJob has no port)", () => {
    expect(buildArgs({ runtimePackages: [] }, "afk-poller", undefined)).toEqual(["SERVICE=afk-poller"]);
  });
});

describe("the report", () => {
  it("names the image as the manifests do, under localhost/ with the tag", () => {
    expect(imageName("executor", "dev")).toBe("localhost/claude-gateway/executor:dev");
  });
  it("flags an image over its compressed budget (MB = 10^6 bytes), never one without a budget", () => {
    expect(overBudget({ bytes: 350_000_001, budgetMB: 350 })).toBe(true);
    expect(overBudget({ bytes: 350_000_000, budgetMB: 350 })).toBe(false);
    expect(overBudget({ bytes: 1e12 })).toBe(false);
  });
  it("prints one aligned row per image", () => {
    const table = formatReport([
      { image: "localhost/claude-gateway/executor:dev", seconds: 61.4, bytes: 301_234_567, budgetMB: 350 },
      { image: "localhost/claude-gateway/afk-poller:dev", seconds: 9, bytes: 210_000_000, budgetMB: 200 },
    ]);
    expect(table.split("\n")).toEqual([
      "image                                    build s  compressed MB  budget MB",
      "localhost/claude-gateway/executor:dev    61       301.2          350        ok",
      "localhost/claude-gateway/afk-poller:dev  9        210.0          200        OVER",
    ]);
  });
});
