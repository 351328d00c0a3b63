import { AgentFileError, UnknownAgentError } from "./errors.js";
import type { AgentSpec } from "./spec.js";

/** The agents a service offers, by name. Read-only once built. */
export class AgentRegistry {
  readonly #agents: ReadonlyMap<string, AgentSpec>;

  /** Throws `AgentFileError` when two specs share a name. */
  constructor(specs: Iterable<AgentSpec>) {
    const agents = new Map<string, AgentSpec>();
    const problems = [];
    for (const spec of specs) {
      const first = agents.get(spec.name);
      if (first) {
        problems.push({
          file: spec.file,
          message: `agent '${spec.name}' is already defined in ${first.file}`,
        });
      } else {
        agents.set(spec.name, spec);
      }
    }
    if (problems.length > 0) throw new AgentFileError(problems);
    this.#agents = agents;
  }

  /** Throws `UnknownAgentError` (a client error) for a name that is not defined. */
  get(name: string): AgentSpec {
    const spec = this.#agents.get(name);
    if (!spec) throw new UnknownAgentError(name, this.names());
    return spec;
  }

  has(name: string): boolean {
    return this.#agents.has(name);
  }

  /** Sorted, for stable listings and messages. */
  names(): string[] {
    return [...this.#agents.keys()].sort();
  }
}
