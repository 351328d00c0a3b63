import { runClaude } from "@claude-gateway/claude";
import { offeredToolNames, type RecordedRequest, systemText, text } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { type AgentRegistry, agentInvocation, findAgentsDir, loadAgents } from "../src/index.js";

// The repo's agent files through the real pinned CLI, against a Messages API stub: what the API
// receives (system prompt, offered tools, model) is what is asserted.
const world = useClaudeWorld({ workPrefix: "cg-agent-cwd-" });
let registry: AgentRegistry;

beforeAll(async () => {
  registry = await loadAgents(await findAgentsDir(import.meta.dirname));
});

async function runAgent(
  name: string,
  prompt: string,
  setEnv?: Record<string, string>,
): Promise<RecordedRequest> {
  const invocation = agentInvocation(registry.get(name), { session: { kind: "ephemeral" }, output: "json" });
  await runClaude({
    invocation,
    prompt,
    cwd: world.work.dir,
    timeoutMs: 30_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...(setEnv ? { setEnv } : {}),
  }).done;
  const [request] = world.stub.turnRequests();
  if (!request) throw new Error("the CLI sent no request");
  return request;
}

const offered = (req: RecordedRequest) => offeredToolNames(req.body).sort();

describe("agents with the real CLI", () => {
  it("recruiter-triage: its prompt is the system prompt and no tool is offered", async () => {
    world.stub.enqueue(text("Classification: maybe"));
    const req = await runAgent(
      "recruiter-triage",
      "Hi! We have an exciting Senior Go role at Acme, remote EU.",
    );
    expect(systemText(req.body)).toContain(registry.get("recruiter-triage").prompt);
    expect(offered(req)).toEqual([]);
  });

  it("general: its prompt is the system prompt and exactly its six tools are offered", async () => {
    world.stub.enqueue(text("Nothing to change."));
    // The skip flag refuses to run as root without IS_SANDBOX; the executor runs as non-root.
    const req = await runAgent("general", "Summarise this checkout.", { IS_SANDBOX: "1" });
    expect(systemText(req.body)).toContain(registry.get("general").prompt);
    expect(offered(req)).toEqual(["Bash", "Edit", "Glob", "Grep", "Read", "Write"]);
  });

  it("conversational: no tools, and its frontmatter model crosses the wire", async () => {
    world.stub.enqueue(text("Здравей!"));
    const req = await runAgent("conversational", "Здрасти, как си?");
    expect(systemText(req.body)).toContain(registry.get("conversational").prompt);
    expect(offered(req)).toEqual([]);
    expect(req.body.model).toBe("claude-haiku-4-5");
  });
});
