/** One problem found in one agent file; `file` is the path or name the file was read under. */
export interface AgentFileProblem {
  file: string;
  message: string;
}

/**
 * One or more agent files are unusable. Start-up stops on it: the message names each file and
 * lists every problem, so one run shows all there is to fix.
 */
export class AgentFileError extends Error {
  override readonly name = "AgentFileError";
  readonly problems: readonly AgentFileProblem[];

  constructor(problems: readonly AgentFileProblem[], options?: ErrorOptions) {
    super(formatProblems(problems), options);
    this.problems = problems;
  }
}

function formatProblems(problems: readonly AgentFileProblem[]): string {
  const byFile = new Map<string, string[]>();
  for (const { file, message } of problems) byFile.set(file, [...(byFile.get(file) ?? []), message]);
  return [...byFile]
    .map(([file, messages]) => `Invalid agent file ${file}:\n${messages.map((m) => `  - ${m}`).join("\n")}`)
    .join("\n");
}

/** The agents directory is missing, unreadable or holds no agent. */
export class AgentsDirError extends Error {
  override readonly name = "AgentsDirError";
  constructor(
    readonly dir: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A caller asked for an agent that is not defined: a client error, not a server fault. */
export class UnknownAgentError extends Error {
  override readonly name = "UnknownAgentError";
  readonly code = "unknown_agent";
  constructor(
    readonly agent: string,
    readonly known: readonly string[],
  ) {
    super(`unknown agent '${agent}'; known agents: ${known.join(", ") || "none"}`);
  }
}
