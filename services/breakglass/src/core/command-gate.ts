/**
 * Which of the agent's tool calls run without a human, which ask the operator, and which are
 * refused outright. Pure: the service answers the CLI's `can_use_tool` requests with it.
 *
 * The local shell must run exactly one `ssh devvm …` or `ssh pve …` (the service's wrapper), so
 * any unquoted shell syntax (`;`, `&`, `|`, `$`, backticks, redirects, globs, newlines, `\`) or
 * expansion inside double quotes is refused: it would run on the breakglass pod itself. What the
 * wrapper sends to the host is the words after the alias joined by spaces, as ssh does. That
 * remote command is read-only only when it equals an entry of the configured list exactly and
 * holds nothing but plain characters; everything else on the VM asks (`remote-shell`), and so do
 * the host's power verbs (`mutating`).
 */

export type Risk = "mutating" | "remote-shell";

export type Verdict =
  | { kind: "read-only"; host: "devvm" | "pve"; remote: string }
  | { kind: "ask"; risk: Risk; host: "devvm" | "pve"; remote: string }
  | { kind: "refused"; reason: string };

/** The host's forced command: read-only verbs and the ones that change the VM's power state. */
export const PVE_READ_ONLY_VERBS = ["status", "forensics"] as const;
export const PVE_MUTATING_VERBS = ["reset", "stop", "start", "cycle"] as const;

/** The VM commands that run without asking unless `BREAKGLASS_READONLY_COMMANDS` says otherwise. */
export const DEFAULT_READONLY_COMMANDS: readonly string[] = [
  "uptime",
  "df -h",
  "free -m",
  "uname -a",
  "systemctl --failed",
  "systemctl list-units --failed --no-pager",
  "journalctl -b -p err --no-pager -n 200",
];

/** Characters a read-only remote command may hold: no shell syntax of any kind. */
const PLAIN = /^[A-Za-z0-9 _./:=,+@%-]+$/;
/** Characters a word may hold outside quotes in the local command. */
const UNQUOTED = /[A-Za-z0-9_./:=,+@%^-]/;

/** Why `entry` cannot be a read-only command, or undefined (used to validate the configuration). */
export function readOnlyEntryProblem(entry: string): string | undefined {
  if (!PLAIN.test(entry))
    return `'${entry}' holds shell syntax (only letters, digits, spaces and _./:=,+@%- are allowed)`;
  if (entry !== entry.trim() || /\s{2}/.test(entry)) return `'${entry}' has extra spaces`;
  return undefined;
}

/**
 * Parses `BREAKGLASS_READONLY_COMMANDS`: entries separated by `;` (which no entry may contain),
 * trimmed, empty ones dropped.
 */
export function parseReadOnlyList(value: string): { commands: string[]; problems: string[] } {
  const commands = value
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const problems = commands.flatMap((c) => readOnlyEntryProblem(c) ?? []);
  return { commands, problems };
}

/** Splits a local shell command into words, or says which shell syntax it holds. */
export function shellWords(command: string): { words: string[] } | { problem: string } {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < command.length) {
    const ch = command[i]!;
    if (ch === " " || ch === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return { problem: "an unclosed single quote" };
      word = (word ?? "") + command.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      const end = command.indexOf('"', i + 1);
      if (end < 0) return { problem: "an unclosed double quote" };
      const inner = command.slice(i + 1, end);
      // The local shell would expand these inside double quotes.
      if (/[$`\\!]/.test(inner)) return { problem: "an expansion inside double quotes" };
      word = (word ?? "") + inner;
      i = end + 1;
    } else if (UNQUOTED.test(ch)) {
      word = (word ?? "") + ch;
      i++;
    } else {
      return { problem: `shell syntax ${JSON.stringify(ch)} outside quotes` };
    }
  }
  if (word !== undefined) words.push(word);
  return { words };
}

const ONE_SSH =
  "only one `ssh devvm <command>` or `ssh pve <verb>` per call is permitted; put pipes and ';' inside one quoted remote command";

/** The verdict on one tool call of the agent. */
export function classifyToolCall(tool: string, input: unknown, readOnly: readonly string[]): Verdict {
  if (tool !== "Bash")
    return { kind: "refused", reason: `${tool} is not permitted outside the working directory` };
  const command = (input as { command?: unknown } | null)?.command;
  if (typeof command !== "string") return { kind: "refused", reason: "a Bash call without a command" };
  return classifyCommand(command, readOnly);
}

export function classifyCommand(command: string, readOnly: readonly string[]): Verdict {
  const parsed = shellWords(command);
  if ("problem" in parsed) return { kind: "refused", reason: `${ONE_SSH} (found ${parsed.problem})` };
  const [ssh, host, ...rest] = parsed.words;
  if (ssh !== "ssh" || (host !== "devvm" && host !== "pve")) return { kind: "refused", reason: ONE_SSH };
  if (rest.length === 0) return { kind: "refused", reason: `ssh ${host} needs a command` };
  const remote = rest.join(" ");
  if (host === "pve") {
    if ((PVE_READ_ONLY_VERBS as readonly string[]).includes(remote))
      return { kind: "read-only", host, remote };
    if ((PVE_MUTATING_VERBS as readonly string[]).includes(remote))
      return { kind: "ask", risk: "mutating", host, remote };
    return {
      kind: "refused",
      reason: `the host accepts exactly one verb: ${[...PVE_READ_ONLY_VERBS, ...PVE_MUTATING_VERBS].join(", ")}`,
    };
  }
  if (PLAIN.test(remote) && readOnly.includes(remote)) return { kind: "read-only", host, remote };
  return { kind: "ask", risk: "remote-shell", host, remote };
}
