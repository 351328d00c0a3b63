import {
  messagesText,
  offeredToolNames,
  STRUCTURED_OUTPUT_TOOL,
  structuredOutput,
  text,
} from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { describe, expect, it } from "vitest";
import {
  ClaudeInvalidRequestError,
  ClaudeStructuredOutputError,
  type Invocation,
  type RunOptions,
  runClaude,
} from "../src/index.js";

// `--json-schema` with the pinned CLI: what the model is offered, what the result carries, and
// how the runner ends when the model or the schema is at fault.
const world = useClaudeWorld({ workPrefix: "cg-facts-so-" });

const CITY = {
  type: "object",
  properties: { city: { type: "string" }, population: { type: "integer" } },
  required: ["city", "population"],
  additionalProperties: false,
};
const inv = (jsonSchema: Record<string, unknown>): Invocation => ({
  profile: { kind: "no-tools" },
  session: { kind: "ephemeral" },
  output: "json",
  jsonSchema,
});
const run = (over: Partial<RunOptions> = {}) =>
  runClaude({
    invocation: inv(CITY),
    prompt: "Which city is Bulgaria's capital, and how many live there?",
    cwd: world.work.dir,
    timeoutMs: 60_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...over,
  });

describe("--json-schema", () => {
  it("offers a StructuredOutput tool even with no tools; its input is the result's structured_output", async () => {
    world.stub.enqueue(structuredOutput({ city: "Sofia", population: 1_200_000 }));
    const out = await run().done;
    expect(out.result.structured_output).toEqual({ city: "Sofia", population: 1_200_000 });
    expect(JSON.parse(out.text)).toEqual({ city: "Sofia", population: 1_200_000 });
    const [req] = world.stub.turnRequests();
    expect(offeredToolNames(req!.body)).toEqual([STRUCTURED_OUTPUT_TOOL]);
    const tool = req!.body.tools?.find((t) => t.name === STRUCTURED_OUTPUT_TOOL);
    expect(JSON.stringify(tool)).toContain('"population"');
  });

  it("an agent's own tool list filters the tool out (an agent with tools: [] is offered none): buildArgv adds it to the list", async () => {
    world.stub.enqueue(structuredOutput({ city: "Sofia", population: 1_200_000 }));
    const agent = {
      name: "answerer",
      definition: { name: "answerer", description: "Answers", prompt: "Answer briefly.", tools: [] },
    };
    const out = await run({ invocation: { ...inv(CITY), agent } }).done;
    expect(out.result.structured_output).toEqual({ city: "Sofia", population: 1_200_000 });
    expect(offeredToolNames(world.stub.turnRequests()[0]!.body)).toEqual([STRUCTURED_OUTPUT_TOOL]);
  });

  it("prose instead of the tool: one enforcement turn, then the CLI says success — the runner says structured_output_missing", async () => {
    world.stub.setDefault(text("Sofia, about 1.2 million."));
    const err = await run().done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClaudeStructuredOutputError);
    const e = err as ClaudeStructuredOutputError;
    expect(e.result?.subtype).toBe("success");
    expect(e.result?.structured_output).toBeUndefined();
    expect(e.result?.total_cost_usd).toBeGreaterThan(0);
    const turns = world.stub.turnRequests();
    expect(turns).toHaveLength(2);
    expect(messagesText(turns[1]!.body)).toContain("You MUST call the StructuredOutput tool");
  });

  it("an invalid schema is refused before any API call (2.1.205 and later): invalid_request", async () => {
    const err = await run({ invocation: inv({ type: "nonsense" }) }).done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClaudeInvalidRequestError);
    expect((err as Error).message).toMatch(/^--json-schema is not a valid JSON Schema/);
    expect(world.stub.turnRequests()).toEqual([]);
  });
});
