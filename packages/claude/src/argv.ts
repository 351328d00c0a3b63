import { randomUUID } from "node:crypto";
import type { Invocation } from "./invocation.js";
import { clientToolServerArgs } from "./tool-host.js";

export class InvalidInvocationError extends Error {
  override readonly name = "InvalidInvocationError";
  readonly code = "invalid_invocation";
}

export interface BuiltCommand {
  file: string;
  args: string[];
  /** The session the run records into (`new`/`resume`, a fork's new one), or undefined for ephemeral runs. */
  sessionId: string | undefined;
}

/** The tool the CLI offers the model for `--json-schema`; its input is the run's structured output. */
export const STRUCTURED_OUTPUT_TOOL = "StructuredOutput";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What an inline agent definition may say. The CLI also takes `hooks` and `mcpServers` there and
 * honours them despite `--setting-sources ""` and `--strict-mcp-config` (CLI-FACTS.md).
 */
const AGENT_DEFINITION_KEYS: ReadonlySet<string> = new Set([
  "name",
  "description",
  "prompt",
  "tools",
  "model",
]);

/**
 * Every run reads settings from the deployer only (managed settings still apply): no hooks,
 * permission rules, memory or MCP servers from the cwd, the checkout or a HOME a job can write.
 * Exported so benchmarks run the bare CLI with the same flags.
 */
export const DEPLOYER_SETTINGS_ONLY = ["--setting-sources", "", "--strict-mcp-config"] as const;

/**
 * Builds the argv of `claude -p` from a typed invocation. Pure but for minting a session id,
 * which is injectable. The prompt is never part of argv: it goes to the child's stdin.
 */
export function buildArgv(
  inv: Invocation,
  opts: { bin: string; mintId?: () => string } = { bin: "claude" },
): BuiltCommand {
  // Settings come from the deployer only. `--setting-sources ""`: no hooks, permissions or memory
  // from the cwd (a cloned repository's `.claude/settings*.json`, CLAUDE.md) or from a HOME a job
  // can write; `--strict-mcp-config` without `--mcp-config`: no MCP server at all. Managed settings
  // (/etc/claude-code/managed-settings.json) still apply. Always, whatever the invocation says.
  const args: string[] = ["-p", ...DEPLOYER_SETTINGS_ONLY];
  let sessionId: string | undefined;

  switch (inv.session.kind) {
    case "new":
      sessionId = inv.session.id ?? (opts.mintId ?? randomUUID)();
      if (!UUID.test(sessionId)) throw new InvalidInvocationError(`session id '${sessionId}' is not a UUID`);
      args.push("--session-id", sessionId);
      break;
    case "resume":
      if (!UUID.test(inv.session.id))
        throw new InvalidInvocationError(`session id '${inv.session.id}' is not a UUID`);
      args.push("--resume", inv.session.id);
      if (inv.session.fork) {
        // The fork's id is ours to choose (`--session-id` with `--fork-session`): the run knows the
        // session it records into from the start, as for a new one.
        sessionId = (opts.mintId ?? randomUUID)();
        if (!UUID.test(sessionId))
          throw new InvalidInvocationError(`session id '${sessionId}' is not a UUID`);
        args.push("--fork-session", "--session-id", sessionId);
      } else {
        sessionId = inv.session.id;
      }
      break;
    case "ephemeral":
      args.push("--no-session-persistence");
      break;
  }

  args.push("--output-format", inv.output);
  if (inv.input === "stream-json") {
    // The CLI refuses it otherwise: "--input-format=stream-json requires output-format=stream-json".
    if (inv.output !== "stream-json")
      throw new InvalidInvocationError("input 'stream-json' needs output 'stream-json'");
    args.push("--input-format", "stream-json");
  }
  if (inv.output === "stream-json") {
    args.push("--verbose");
    if (inv.includePartialMessages) args.push("--include-partial-messages");
  } else if (inv.includePartialMessages) {
    throw new InvalidInvocationError("includePartialMessages needs output 'stream-json'");
  }

  if (inv.model !== undefined) {
    if (inv.model.trim() === "" || inv.model.startsWith("-"))
      throw new InvalidInvocationError("model is empty or starts with '-'");
    args.push("--model", inv.model);
  }

  if (inv.agent && inv.systemPrompt !== undefined) {
    throw new InvalidInvocationError(
      "an agent brings its own system prompt: give agent or systemPrompt, not both",
    );
  }
  if (inv.agent) {
    if (inv.agent.definition) {
      const { name, description, prompt, tools, model } = inv.agent.definition;
      if (name !== inv.agent.name)
        throw new InvalidInvocationError("agent definition name differs from agent name");
      // Callers may come from untyped JSON: a definition carrying hooks or MCP servers is refused.
      const extra = Object.keys(inv.agent.definition).filter((k) => !AGENT_DEFINITION_KEYS.has(k));
      if (extra.length > 0) {
        throw new InvalidInvocationError(
          `an agent definition gives only description, prompt, tools and model, not ${extra.join(", ")}`,
        );
      }
      // The CLI's structured-output tool exists only with --json-schema, and an agent's own tool
      // list filters it out (2.1.332): the run could then never answer as asked.
      const agentTools =
        tools !== undefined && inv.jsonSchema !== undefined && !tools.includes(STRUCTURED_OUTPUT_TOOL)
          ? [...tools, STRUCTURED_OUTPUT_TOOL]
          : tools;
      // An agent's own tool list would filter out the caller's tools too (its MCP tools are not in
      // it). With client tools the agent has none of its own (`--tools ""`, the no-tools profile):
      // without the list it sees exactly what is offered, the caller's tools.
      const clientTools = (inv as { clientTools?: unknown }).clientTools === true;
      const def = {
        description,
        prompt,
        ...(agentTools !== undefined && !clientTools ? { tools: agentTools } : {}),
        ...(model !== undefined ? { model } : {}),
      };
      args.push("--agents", JSON.stringify({ [name]: def }));
    }
    args.push("--agent", inv.agent.name);
  }
  if (inv.systemPrompt !== undefined) args.push("--system-prompt", inv.systemPrompt);
  if (inv.appendSystemPrompt !== undefined) args.push("--append-system-prompt", inv.appendSystemPrompt);
  args.push("--system-prompt-snapshot", inv.systemPromptSnapshot === true ? "on" : "off");

  pushTools(inv, args);

  if (inv.maxBudgetUsd !== undefined) {
    if (!(inv.maxBudgetUsd > 0) || !Number.isFinite(inv.maxBudgetUsd)) {
      throw new InvalidInvocationError("maxBudgetUsd must be a positive number");
    }
    args.push("--max-budget-usd", String(inv.maxBudgetUsd));
  }
  for (const dir of inv.addDirs ?? []) args.push("--add-dir", dir);
  if (inv.jsonSchema) args.push("--json-schema", JSON.stringify(inv.jsonSchema));

  return { file: opts.bin, args, sessionId };
}

function pushTools(inv: Invocation, args: string[]): void {
  // Re-check the no-tools profile at run time: callers may come from untyped JSON.
  const profile = inv.profile as { kind: string; dangerouslySkipPermissions?: unknown };
  if (profile.kind === "no-tools") {
    if (profile.dangerouslySkipPermissions !== undefined) {
      throw new InvalidInvocationError("the no-tools profile can never skip permissions");
    }
    if (inv.tools && inv.tools.length > 0)
      throw new InvalidInvocationError("the no-tools profile offers no tools");
    if ((inv as { allowedTools?: readonly string[] }).allowedTools?.length) {
      throw new InvalidInvocationError("the no-tools profile allows no tools");
    }
    const mode = inv.permissionMode as string | undefined;
    if (mode === "bypassPermissions" || mode === "auto") {
      throw new InvalidInvocationError(`the no-tools profile can never bypass permissions (${mode})`);
    }
    // `--tools ""` is the only setting that removes every tool from the API request.
    args.push("--tools", "");
    if ((inv as { clientTools?: unknown }).clientTools === true) {
      // The caller's tools and no other: the in-process server (whose tools the host decides) is
      // the only MCP server (`--strict-mcp-config` keeps every other out), and only its tools allowed.
      if (inv.input !== "stream-json")
        throw new InvalidInvocationError("client tools need input and output 'stream-json'");
      args.push(...clientToolServerArgs());
    }
  } else if (profile.kind === "tools") {
    if ((inv as { clientTools?: unknown }).clientTools !== undefined)
      throw new InvalidInvocationError(
        "client tools only with the no-tools profile: the model sees the caller's tools alone",
      );
    if (inv.tools !== undefined) args.push("--tools", inv.tools.join(","));
    if (inv.allowedTools?.length) args.push("--allowedTools", ...inv.allowedTools);
  } else {
    throw new InvalidInvocationError(`unknown profile '${profile.kind}'`);
  }
  if (inv.disallowedTools?.length) args.push("--disallowedTools", ...inv.disallowedTools);
  if (inv.permissionMode !== undefined) args.push("--permission-mode", inv.permissionMode);
  if (profile.kind === "tools" && profile.dangerouslySkipPermissions === true) {
    args.push("--dangerously-skip-permissions");
  }
}
