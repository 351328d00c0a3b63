import { constants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { type Logger, silentLogger } from "@claude-gateway/service-kit";
import { execa, type ResultPromise } from "execa";
import { type Alias, type HostSpec, renderSshConfig, renderSshWrapper } from "./core/ssh-files.js";

export interface SshSetupOptions {
  hosts: Partial<Record<Alias, HostSpec>>;
  /** The mounted private key; loaded into a private ssh-agent (read from stdin, so its mode does not matter). */
  keyFile?: string;
  /** The mounted known_hosts: the only host keys trusted. */
  knownHostsFile?: string;
  /** Where the config, the wrapper and the agent socket go; a fresh 0700 temp dir by default. */
  stateDir?: string;
  sshBin?: string;
  sshAgentBin?: string;
  sshAddBin?: string;
  /** PATH to resolve the binaries on (default `process.env.PATH`). */
  path?: string;
  logger?: Logger;
}

export interface SshSetup {
  /** Put first on the agent's PATH: holds the `ssh` wrapper. Always present, configured or not. */
  binDir: string;
  /** The real ssh client, absolute. */
  sshBin: string;
  /** The written ssh_config; undefined when SSH is not usable. */
  configPath: string | undefined;
  /** The aliases that work. */
  aliases: Alias[];
  /** Why SSH (or one alias) is unusable, for the 503 of the VM verbs and the agent's wrapper. */
  problems: string[];
  /** For the CLI child: SSH_AUTH_SOCK when the agent runs. */
  childEnv: Record<string, string>;
  /** The private ssh-agent's pid while it runs. */
  agentPid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Makes the two SSH aliases usable: starts a private `ssh-agent -D` holding the mounted key,
 * writes an ssh_config with `Host devvm` / `Host pve` (strict host key checking against the
 * mounted known_hosts) and the agent's `ssh` wrapper. Never throws for missing or broken SSH
 * settings: the service must still start (its verbs then answer 503 with `problems`).
 */
export async function setupSsh(opts: SshSetupOptions): Promise<SshSetup> {
  const log = opts.logger ?? silentLogger;
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), "breakglass-ssh-")));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const binDir = join(stateDir, "bin");
  await mkdir(binDir, { recursive: true, mode: 0o700 });
  const searchPath = opts.path ?? process.env.PATH ?? "";
  const problems: string[] = [];
  const resolveBin = async (name: string) => {
    const found = await which(name, searchPath, binDir);
    if (!found) problems.push(`${name} is not installed (not found on PATH)`);
    return found ?? name;
  };
  const sshBin = await resolveBin(opts.sshBin ?? "ssh");

  let agent: ResultPromise | undefined;
  const stop = async () => {
    if (agent && agent.exitCode === null) {
      agent.kill("SIGTERM");
      await agent.catch(() => {});
    }
    await rm(stateDir, { recursive: true, force: true });
  };

  const unusable = async (): Promise<SshSetup> => {
    const reason = problems.join("; ");
    log.warn({ problems }, "SSH is not usable: the VM verbs will answer 503");
    await writeWrapper(binDir, { sshBin, configPath: "/dev/null", aliases: [], unavailable: reason });
    return {
      binDir,
      sshBin,
      configPath: undefined,
      aliases: [],
      problems,
      childEnv: {},
      agentPid: undefined,
      stop,
    };
  };

  const aliases = (Object.keys(opts.hosts) as Alias[]).filter((a) => opts.hosts[a] !== undefined);
  if (aliases.length === 0) problems.push("neither SSH_DEVVM_HOST nor SSH_PVE_HOST is set");
  if (!opts.keyFile) problems.push("SSH_KEY_FILE is not set");
  if (!opts.knownHostsFile) problems.push("SSH_KNOWN_HOSTS_FILE is not set");
  else if (!(await readable(opts.knownHostsFile)))
    problems.push(`SSH_KNOWN_HOSTS_FILE (${opts.knownHostsFile}) cannot be read`);
  let key: Buffer | undefined;
  if (opts.keyFile) {
    key = await readFile(opts.keyFile).catch(() => undefined);
    if (!key) problems.push(`SSH_KEY_FILE (${opts.keyFile}) cannot be read`);
  }
  const agentBin = await resolveBin(opts.sshAgentBin ?? "ssh-agent");
  const addBin = await resolveBin(opts.sshAddBin ?? "ssh-add");
  if (problems.length > 0 || !key || !opts.knownHostsFile) return unusable();

  const socket = join(stateDir, "agent.sock");
  agent = execa(agentBin, ["-D", "-a", socket], {
    stdin: "ignore",
    stderr: "ignore",
    reject: false,
    buffer: false,
  });
  const started = await agentReady(agent, 10_000);
  if (!started.ok) {
    problems.push(`ssh-agent did not start: ${started.reason}`);
    return unusable();
  }
  const agentEnv = { SSH_AUTH_SOCK: socket };
  const added = await execa(addBin, ["-q", "-"], {
    input: key,
    env: agentEnv,
    extendEnv: false,
    reject: false,
    timeout: 10_000,
  });
  if (added.exitCode !== 0) {
    problems.push(
      `SSH_KEY_FILE could not be loaded: ${String(added.stderr).trim() || `exit ${added.exitCode}`}`,
    );
    agent.kill("SIGTERM");
    await agent.catch(() => {});
    return unusable();
  }
  const listed = await execa(addBin, ["-L"], {
    env: agentEnv,
    extendEnv: false,
    reject: false,
    timeout: 10_000,
  });
  const publicKeyFile = join(stateDir, "id.pub");
  await writeFile(publicKeyFile, `${String(listed.stdout).trim().split("\n")[0] ?? ""}\n`, { mode: 0o600 });

  const configPath = join(stateDir, "config");
  await writeFile(
    configPath,
    renderSshConfig({
      hosts: opts.hosts,
      agentSocket: socket,
      publicKeyFile,
      knownHostsFile: opts.knownHostsFile,
    }),
    { mode: 0o600 },
  );
  const missing = (["devvm", "pve"] as const).filter((a) => !aliases.includes(a));
  const aliasProblems = missing.map((a) => `${a} is not configured (SSH_${a.toUpperCase()}_HOST is not set)`);
  await writeWrapper(binDir, {
    sshBin,
    configPath,
    aliases,
    ...(aliasProblems.length ? { unavailable: aliasProblems.join("; ") } : {}),
  });
  log.info({ aliases, stateDir }, "SSH ready: key loaded into a private agent, aliases written");
  return {
    binDir,
    sshBin,
    configPath,
    aliases,
    problems: aliasProblems,
    childEnv: agentEnv,
    agentPid: agent.pid,
    stop,
  };
}

async function writeWrapper(binDir: string, input: Parameters<typeof renderSshWrapper>[0]): Promise<void> {
  const file = join(binDir, "ssh");
  await writeFile(file, renderSshWrapper(input), { mode: 0o700 });
  await chmod(file, 0o700);
}

/** `ssh-agent -D` prints its `SSH_AUTH_SOCK=…` line once the socket listens. */
async function agentReady(
  agent: ResultPromise,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!agent.stdout) return { ok: false, reason: "no stdout" };
  const lines = createInterface({ input: agent.stdout });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    new Promise<{ ok: true }>((resolve) => {
      lines.on("line", (line) => {
        if (line.startsWith("SSH_AUTH_SOCK=")) resolve({ ok: true });
      });
    }),
    agent.then((r) => ({ ok: false as const, reason: `it exited (${r.exitCode ?? r.signal})` })),
    new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no socket after ${timeoutMs} ms` }), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  // Keep draining its stdout, so it never blocks on a full pipe.
  agent.stdout.resume();
  if (!outcome.ok) agent.kill("SIGKILL");
  return outcome;
}

async function which(name: string, path: string, exclude: string): Promise<string | undefined> {
  if (isAbsolute(name)) return (await executable(name)) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir || dir === exclude) continue;
    const candidate = join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

const executable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
const readable = (file: string) =>
  access(file, constants.R_OK).then(
    () => true,
    () => false,
  );
