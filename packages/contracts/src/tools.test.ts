import { describe, expect, it } from "vitest";
import { JobSubmission, ToolResults } from "./job.js";
import { JobEvent } from "./job-events.js";
import { subjects } from "./subjects.js";
import { ClientToolDef, MAX_CLIENT_TOOL_NAME, MAX_TOOL_RESULTS } from "./tools.js";

const weather = { name: "get_weather", description: "Weather of a city", inputSchema: { type: "object" } };
const job = { agent: "assistant", prompt: "hi" };

describe("client tools on a job", () => {
  it("takes tools with unique names that the CLI can offer unchanged", () => {
    const ok = JobSubmission.parse({ ...job, tools: [weather, { name: "a-b_C9", inputSchema: {} }] });
    expect(ok.tools?.map((t) => t.name)).toEqual(["get_weather", "a-b_C9"]);
    expect(ClientToolDef.safeParse({ name: "x".repeat(MAX_CLIENT_TOOL_NAME), inputSchema: {} }).success).toBe(
      true,
    );
  });

  it.each<[string, unknown, string]>([
    ["a name past 51 characters", [{ name: "x".repeat(52), inputSchema: {} }], "tools.0.name"],
    ["a dot in a name", [{ name: "get.weather", inputSchema: {} }], "tools.0.name"],
    ["an empty name", [{ name: "", inputSchema: {} }], "tools.0.name"],
    ["a schema of an array", [{ name: "a", inputSchema: { type: "array" } }], "tools.0.inputSchema"],
    ["no schema", [{ name: "a" }], "tools.0.inputSchema"],
    ["an unknown field", [{ name: "a", inputSchema: {}, strict: true }], "tools.0"],
    ["the same name twice", [weather, weather], "tools.1.name"],
    ["no tools", [], "tools"],
  ])("refuses %s", (_what, tools, path) => {
    const r = JobSubmission.safeParse({ ...job, tools });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("refuses tools beside a JSON schema (the answer is either calls or an object)", () => {
    const r = JobSubmission.safeParse({ ...job, tools: [weather], jsonSchema: { type: "object" } });
    expect(r.error?.issues.map((i) => i.message)).toEqual(["a job has either tools or a JSON schema"]);
  });
});

describe("tool results and events", () => {
  it("takes one result per call, each a text, an error flag optional", () => {
    const r = ToolResults.parse({
      id: "job-1",
      results: [
        { id: "toolu_1", content: "12°C" },
        { id: "toolu_2", content: "no such city", isError: true },
      ],
    });
    expect(r.results).toHaveLength(2);
    expect(ToolResults.safeParse({ id: "job-1", results: [] }).success).toBe(false);
    const many = Array.from({ length: MAX_TOOL_RESULTS + 1 }, (_, i) => ({ id: `t${i}`, content: "" }));
    expect(ToolResults.safeParse({ id: "job-1", results: many }).success).toBe(false);
    expect(ToolResults.safeParse({ id: "job 1", results: [{ id: "t", content: "" }] }).success).toBe(false);
    expect(ToolResults.safeParse({ id: "j", results: [{ id: "t", content: 1 }] }).success).toBe(false);
  });

  it("a tool_calls event carries the calls, the message's text and the expiry", () => {
    const e = JobEvent.parse({
      type: "tool_calls",
      jobId: "j",
      seq: 3,
      at: "2026-12-05T00:00:00.000Z",
      calls: [{ id: "toolu_1", name: "get_weather", input: { city: "Sofia" } }],
      text: "Let me look.",
      expiresAt: "2026-12-05T00:10:00.000Z",
    });
    expect(e.type).toBe("tool_calls");
    expect(JobEvent.safeParse({ ...e, calls: [] }).success).toBe(false);
  });

  it("results go to a per-caller subject; forwarding between replicas is on the control subjects", () => {
    expect(subjects.jobs.tools("nats_billing")).toBe("agent.v1.jobs.tools.nats_billing");
    expect(subjects.jobs.serve.tools).toBe("agent.v1.jobs.tools.*");
    expect(subjects.jobs.toolsAt("exec-1")).toBe("agent.v1.control.tools.exec-1");
    expect(() => subjects.jobs.toolsAt("a.>")).toThrow();
  });
});
