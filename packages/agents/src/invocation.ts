import type { AgentDefinition, Invocation, OutputFormat, SessionMode } from "@claude-gateway/claude";
import type { AgentSpec } from "./spec.js";

/** What a run adds to an agent: everything that is per job rather than per agent. */
export interface AgentInvocationOptions {
  session: SessionMode;
  output: OutputFormat;
  /** Overrides the agent's frontmatter model (already checked against the model policy). */
  model?: string;
  maxBudgetUsd?: number;
  includePartialMessages?: boolean;
  addDirs?: readonly string[];
}

/**
 * Maps an agent onto the claude package's typed invocation. The agent travels inline
 * (`--agents <json> --agent <name>`), so nothing is written into the job's checkout, and the
 * tool list is given twice: `--tools` decides what the API request offers, the definition's list
 * what the agent may use.
 */
export function agentInvocation(spec: AgentSpec, opts: AgentInvocationOptions): Invocation {
  const model = opts.model ?? spec.model;
  const definition: AgentDefinition = {
    name: spec.name,
    description: spec.description,
    prompt: spec.prompt,
    ...(spec.tools !== undefined ? { tools: spec.tools } : {}),
    ...(spec.model !== undefined ? { model: spec.model } : {}),
  };
  const common = {
    session: opts.session,
    output: opts.output,
    // Always explicit, so argv and logs say which model ran.
    ...(model !== undefined ? { model } : {}),
    ...(opts.includePartialMessages !== undefined
      ? { includePartialMessages: opts.includePartialMessages }
      : {}),
    ...(opts.maxBudgetUsd !== undefined ? { maxBudgetUsd: opts.maxBudgetUsd } : {}),
    ...(opts.addDirs !== undefined ? { addDirs: opts.addDirs } : {}),
    agent: { name: spec.name, definition },
  };
  const p = spec.permissions;
  const deny = p.deny.length > 0 ? { disallowedTools: p.deny } : {};

  if (p.profile === "no-tools") {
    return {
      ...common,
      profile: { kind: "no-tools" },
      tools: [],
      ...deny,
      ...(p.mode !== undefined ? { permissionMode: p.mode } : {}),
    };
  }
  return {
    ...common,
    profile: { kind: "tools", dangerouslySkipPermissions: p.skipPermissions },
    ...(spec.tools !== undefined ? { tools: spec.tools } : {}),
    ...(p.allow.length > 0 ? { allowedTools: p.allow } : {}),
    ...deny,
    ...(p.mode !== undefined ? { permissionMode: p.mode } : {}),
  };
}
