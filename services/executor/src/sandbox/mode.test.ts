import { describe, expect, it } from "vitest";
import { isolationMode } from "./mode.js";

describe("isolationMode", () => {
  it("auto and users isolate when the service is root", () => {
    expect(isolationMode("auto", 0)).toEqual({ mode: "users" });
    expect(isolationMode("users", 0)).toEqual({ mode: "users" });
  });
  it("auto refuses as another user, naming both ways out", () => {
    const r = isolationMode("auto", 1000);
    expect(r).toHaveProperty("problem");
    expect((r as { problem: string }).problem).toMatch(/uid 1000.*RUNNER_SOCKET.*root.*AGENT_ISOLATION=none/);
  });
  it("users refuses as another user", () => {
    expect((isolationMode("users", 1000) as { problem: string }).problem).toMatch(
      /needs the executor to run as root/,
    );
  });
  it("a runner socket isolates whoever the service runs as", () => {
    expect(isolationMode("auto", 1000, "/run/r.sock")).toEqual({ mode: "runner" });
    expect(isolationMode("users", 1000, "/run/r.sock")).toEqual({ mode: "runner" });
    expect(isolationMode("auto", 0, "/run/r.sock")).toEqual({ mode: "runner" });
  });
  it("none is only ever what was asked for", () => {
    expect(isolationMode("none", 0)).toEqual({ mode: "none" });
    expect(isolationMode("none", 1000)).toEqual({ mode: "none" });
  });
});
