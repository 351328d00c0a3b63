import type { JobSubmission } from "@claude-gateway/contracts";

/**
 * Which jobs a prewarmed CLI process can run, and which processes to keep: decisions only.
 *
 * A prewarmed process is started before its job is known, so everything its argv and environment
 * fix must be the same for every job it could serve: the agent, the model, an empty checkout, no
 * session to resume, no budget cap (it cannot be changed once the CLI runs). That holds for a
 * stateless job of a no-tools agent: no repository, no session; a no-tools turn is one API message,
 * and the CLI checks `--max-budget-usd` only after a message, so a cap could not stop it anyway
 * (admission's budget check is the guard, as for a capped cold run of such an agent).
 *
 * Images are no obstacle: they travel in the turn's user message, as the prompt does. A JSON
 * schema is: `--json-schema` is a process flag. Keying processes by schema would not help either:
 * schemas come with the request (a caller's response format), so a key per schema would rarely be
 * hit again, and each would push a common agent-and-model key out of the `PREWARM_MAX_KEYS` kept.
 * Such jobs run cold (and count as no `miss`: they never ask the pool).
 */
export function prewarmKeyOf(
  submission: Pick<JobSubmission, "repo" | "session" | "jsonSchema" | "tools">,
  agent: { name: string; profile: "no-tools" | "tools" },
  model: string,
): string | undefined {
  if (agent.profile !== "no-tools") return undefined;
  if (submission.repo !== undefined || submission.session !== undefined) return undefined;
  if (submission.jsonSchema !== undefined) return undefined;
  // A prewarmed process hosts no caller's tools.
  if (submission.tools !== undefined) return undefined;
  return keyOf(agent.name, model);
}

export function keyOf(agent: string, model: string): string {
  return `${agent} ${model}`;
}

export function agentAndModelOf(key: string): { agent: string; model: string } {
  const [agent = "", model = ""] = key.split(" ");
  return { agent, model };
}

/** The keys used lately, most recent first, at most `max`: the pool keeps processes for these. */
export function touchKey(keys: readonly string[], key: string, max: number): string[] {
  return [key, ...keys.filter((k) => k !== key)].slice(0, Math.max(0, max));
}

/** Which processes to start now: each key topped up to `size`, most recent first, within `room`. */
export function shortfall(
  have: ReadonlyMap<string, number>,
  keys: readonly string[],
  size: number,
  room: number,
): string[] {
  const out: string[] = [];
  for (const key of keys) {
    for (let n = have.get(key) ?? 0; n < size && out.length < room; n++) out.push(key);
  }
  return out;
}
