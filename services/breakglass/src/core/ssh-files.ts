/**
 * The two files breakglass writes at start-up, rendered here as pure text: the ssh_config that
 * defines the `devvm` and `pve` aliases, and the `ssh` wrapper put first on the agent's PATH.
 */

export const ALIASES = ["devvm", "pve"] as const;
export type Alias = (typeof ALIASES)[number];

export interface HostSpec {
  hostName: string;
  user: string;
  port: number;
}

export interface SshConfigInput {
  hosts: Partial<Record<Alias, HostSpec>>;
  /** The agent socket holding the key (`IdentityAgent`). */
  agentSocket: string;
  /** The key's public half: with `IdentitiesOnly`, ssh offers only the agent key matching it. */
  publicKeyFile: string;
  /** Mounted known_hosts; nothing else is trusted and nothing is ever added to it. */
  knownHostsFile: string;
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^[0-9A-Fa-f:.]+$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function hostNameProblem(value: string): string | undefined {
  return HOST_NAME.test(value) ? undefined : "must be a host name or an IP address";
}

export function userProblem(value: string): string | undefined {
  return USER.test(value) ? undefined : "must be a plain user name";
}

/** ssh_config values are quoted; a path that needs more than that is refused rather than escaped. */
function configPath(path: string): string {
  if (!path.startsWith("/") || /["\\\s]/.test(path) || /[\r\n]/.test(path)) {
    throw new Error(`not a plain absolute path: ${JSON.stringify(path)}`);
  }
  return `"${path}"`;
}

export function renderSshConfig(input: SshConfigInput): string {
  const lines = ["# Written by breakglass at start-up; regenerated on every start.", ""];
  for (const alias of ALIASES) {
    const h = input.hosts[alias];
    if (!h) continue;
    for (const [what, problem] of [
      ["host name", hostNameProblem(h.hostName)],
      ["user", userProblem(h.user)],
    ] as const) {
      if (problem) throw new Error(`${alias}: ${what} ${problem}`);
    }
    if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) throw new Error(`${alias}: bad port`);
    lines.push(`Host ${alias}`, `  HostName ${h.hostName}`, `  User ${h.user}`, `  Port ${h.port}`, "");
  }
  lines.push(
    "Host *",
    `  IdentityAgent ${configPath(input.agentSocket)}`,
    `  IdentityFile ${configPath(input.publicKeyFile)}`,
    "  IdentitiesOnly yes",
    "  PasswordAuthentication no",
    "  KbdInteractiveAuthentication no",
    "  StrictHostKeyChecking yes",
    `  UserKnownHostsFile ${configPath(input.knownHostsFile)}`,
    "  GlobalKnownHostsFile /dev/null",
    "  UpdateHostKeys no",
    "  CheckHostIP no",
    "  BatchMode yes",
    "  ConnectTimeout 15",
    "  ServerAliveInterval 15",
    "  ServerAliveCountMax 4",
    // Nothing that runs a local command or opens a channel besides the session itself.
    "  ProxyCommand none",
    "  PermitLocalCommand no",
    "  ForwardAgent no",
    "  ForwardX11 no",
    "  ClearAllForwardings yes",
    "  ControlMaster no",
    "  ControlPath none",
    "  LogLevel ERROR",
    "",
  );
  return lines.join("\n");
}

/** POSIX shell single-quoting. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export interface WrapperInput {
  /** The real ssh client, absolute (never this wrapper). */
  sshBin: string;
  configPath: string;
  /** Aliases that are configured; any other first argument is refused. */
  aliases: readonly Alias[];
  /** Why some alias (or all of SSH) is unavailable; shown to the agent. */
  unavailable?: string;
}

/**
 * The agent's `ssh`. The CLI's `Bash(ssh devvm:*)` pattern matches the command's start only, and
 * OpenSSH reads options after the host name too: `ssh devvm -o ProxyCommand=…` would run a local
 * command. The wrapper pins the config (`-F`), allows only the configured aliases as the first
 * argument, and puts `--` before it so nothing after the alias is read as an option.
 */
export function renderSshWrapper(input: WrapperInput): string {
  for (const a of input.aliases)
    if (!(ALIASES as readonly string[]).includes(a)) throw new Error(`alias ${a}`);
  const refuse = input.unavailable
    ? `breakglass: ${input.unavailable}`
    : "breakglass: only 'ssh devvm …' and 'ssh pve …' are available";
  const lines = [
    "#!/bin/sh",
    "# Written by breakglass at start-up: the agent's only ssh. See src/core/ssh-files.ts.",
  ];
  if (input.aliases.length === 0) {
    lines.push(`echo ${shellQuote(refuse)} >&2`, "exit 2");
  } else {
    lines.push(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell, not a template
      'case "${1-}" in',
      `  ${input.aliases.join("|")}) ;;`,
      `  *) echo ${shellQuote(refuse)} >&2; exit 2 ;;`,
      "esac",
      // -n: never wait on stdin (the Bash tool's stdin may stay open).
      `exec ${shellQuote(input.sshBin)} -F ${shellQuote(input.configPath)} -o BatchMode=yes -n -- "$@"`,
    );
  }
  return `${lines.join("\n")}\n`;
}
