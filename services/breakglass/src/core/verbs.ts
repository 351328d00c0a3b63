/**
 * The power verbs: the one whitelist, which of them change the VM, and the argv that runs one on
 * the Proxmox host. The host's forced command (`deploy/breakglass/pve-verb.sh`) checks the verb
 * again; the VM id is never sent: the host's script has its own.
 */

export const VERBS = ["status", "forensics", "reset", "stop", "start", "cycle"] as const;
export type Verb = (typeof VERBS)[number];

export const MUTATING_VERBS: readonly Verb[] = ["reset", "stop", "start", "cycle"];

/** The verb named exactly by `input`, or undefined: no trimming, no case folding, no normalising. */
export function parseVerb(input: unknown): Verb | undefined {
  if (typeof input !== "string") return undefined;
  return (VERBS as readonly string[]).includes(input) ? (input as Verb) : undefined;
}

export function isMutating(verb: Verb): boolean {
  return MUTATING_VERBS.includes(verb);
}

/**
 * The confirmation a verb needs in the request body: mutating verbs must repeat their own name in
 * `confirm`, so a stray or replayed request for another verb cannot pass. Returns the problem.
 */
export function confirmationProblem(verb: Verb, body: unknown): string | undefined {
  const fields = body === undefined || body === null ? {} : body;
  if (typeof fields !== "object" || Array.isArray(fields)) return "the body must be a JSON object";
  const extra = Object.keys(fields).filter((k) => k !== "confirm");
  if (extra.length > 0) return `unknown field(s): ${extra.join(", ")}`;
  const confirm = (fields as { confirm?: unknown }).confirm;
  if (!isMutating(verb)) {
    return confirm === undefined || confirm === verb ? undefined : `confirm must be "${verb}" or absent`;
  }
  if (confirm === undefined) return `${verb} changes the VM: send {"confirm":"${verb}"} to confirm`;
  return confirm === verb ? undefined : `confirm must be exactly "${verb}"`;
}

/** A process to run: pure data, the ssh runner's only input. */
export interface Command {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface PveCommandOptions {
  /** The real ssh client, absolute. */
  sshBin: string;
  /** The ssh_config breakglass wrote (`Host pve`, key, known hosts). */
  configPath: string;
}

/**
 * `ssh -F <config> -o BatchMode=yes -- pve <verb>` as an argv list: no shell anywhere, `--` so the
 * alias and verb can never be read as options. The environment is empty: the config names the key
 * agent, the known hosts and everything else.
 */
export function pveVerbCommand(verb: Verb, opts: PveCommandOptions): Command {
  // Typed callers cannot pass anything else; untyped ones (JSON, casts) are stopped here too.
  if (parseVerb(verb) === undefined) throw new TypeError(`not a verb: ${JSON.stringify(verb)}`);
  return {
    file: opts.sshBin,
    args: ["-F", opts.configPath, "-o", "BatchMode=yes", "--", "pve", verb],
    env: {},
  };
}
