import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import {
  BUS_SERVICES,
  type BusService,
  busUsers,
  inboxPrefixOf,
  renderNatsServerConfig,
  serviceUser,
} from "@claude-gateway/contracts";
import { execa } from "execa";

/** Debian installs the server outside a normal user's PATH. */
const WELL_KNOWN_BINS = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"];

const INSTALL_HINT =
  "Install it with `apt-get install -y nats-server` (Debian/Ubuntu), or download a release from " +
  "https://github.com/nats-io/nats-server/releases and point NATS_SERVER_BIN at the binary.";

export class NatsServerNotFoundError extends Error {
  override name = "NatsServerNotFoundError";
  constructor(looked: string[]) {
    super(`nats-server binary not found (looked at: ${looked.join(", ")}). ${INSTALL_HINT}`);
  }
}

export class NatsServerStartError extends Error {
  override name = "NatsServerStartError";
  constructor(
    message: string,
    readonly logTail: string,
    options?: ErrorOptions,
  ) {
    super(logTail ? `${message}\n--- nats-server log tail ---\n${logTail}` : message, options);
  }
}

export interface StartNatsServerOptions {
  /** The binary; default: `NATS_SERVER_BIN`, then PATH, then /usr/sbin/nats-server. */
  bin?: string;
  /** A fixed client port (e.g. to restart a server where clients reconnect). Default: one the OS picks. */
  port?: number;
  /** Reuse this JetStream store dir; it is then kept on stop. Default: a fresh temp dir, removed on stop. */
  storeDir?: string;
  /** Give up on startup after this long. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in `stop()`. */
  stopGraceMs?: number;
  /** Where `NATS_SERVER_BIN` and `PATH` are read from. */
  env?: NodeJS.ProcessEnv;
  /**
   * The bus's users and permissions (the configuration deploy and `pnpm start` use, generated from
   * the same source), with these internal callers; default: on, no callers. `false`: an open server
   * without users (only to measure what authentication costs).
   */
  bus?: false | { callers?: readonly string[]; anonymous?: boolean };
  /** TLS for client connections (PEM files); with the bus only. */
  tls?: { certFile: string; keyFile: string };
  /**
   * The bus users' passwords (default: random): a server restarted on the same `port` and
   * `storeDir` with the first one's `passwords` lets its clients reconnect as they were.
   */
  passwords?: ReadonlyMap<string, string>;
}

/** The name of the test-only user that may do anything (the tests' own connections). */
export const OBSERVER_USER = "observer";

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  storeDir: string;
  pid: number;
  /** SIGTERM, SIGKILL after the grace period; waits for the exit and removes an owned store dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now, without waiting (to simulate a crash). Call `stop()` afterwards to clean up. */
  kill(): void;
  /** The last lines the server logged, for assertion messages. */
  logTail(): string;
  /** The bus users' passwords (to restart the server with the same users: `opts.passwords`). */
  passwords: ReadonlyMap<string, string>;
  /**
   * A bus user's connection settings as a service reads them (`NATS_URL`, `NATS_USER`,
   * `NATS_PASSWORD`), for one of our services or an internal caller's principal (`nats_<name>`).
   * Empty on an open server.
   */
  envOf(user: BusService | string): Record<string, string>;
  /** The same as client options (`servers`, `user`, `pass`, `inboxPrefix`). */
  optionsOf(user: BusService | string): {
    servers: string;
    user?: string;
    pass?: string;
    inboxPrefix?: string;
  };
}

export type IsExecutable = (path: string) => boolean;

const isExecutableFile: IsExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Where the server binary is, or a `NatsServerNotFoundError` that says how to install it. */
export function findNatsServerBin(
  env: NodeJS.ProcessEnv = process.env,
  isExecutable: IsExecutable = isExecutableFile,
): string {
  const explicit = env.NATS_SERVER_BIN;
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new NatsServerNotFoundError([`NATS_SERVER_BIN=${explicit} (not an executable file)`]);
  }
  const fromPath = (env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "nats-server"));
  const candidates = [...fromPath, ...WELL_KNOWN_BINS];
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new NatsServerNotFoundError(["$NATS_SERVER_BIN (unset)", "$PATH", ...WELL_KNOWN_BINS]);
}

/** `-1` asks nats-server for a random free port; the chosen one is read back from its log. */
export function natsServerArgs(opts: { port?: number; storeDir: string }): string[] {
  return ["-a", "127.0.0.1", "-p", String(opts.port ?? -1), "-js", "-sd", opts.storeDir];
}

const LISTENING_RE = /Listening for client connections on [^\s]*:(\d+)/;

/** The client port from one nats-server log line, if that line announces it. */
export function parseListeningPort(line: string): number | undefined {
  const match = LISTENING_RE.exec(line);
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Starts a throwaway JetStream-enabled nats-server on 127.0.0.1 and resolves once a client
 * can connect and the server announces JetStream. Stop it in `afterAll`.
 */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServer> {
  const bin = opts.bin ?? findNatsServerBin(opts.env);
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const ownsStoreDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), "nats-js-")));
  const passwords = new Map<string, string>();
  const args = natsServerArgs({ port: opts.port, storeDir });
  const confDir = opts.bus === false ? undefined : await mkdtemp(join(tmpdir(), "nats-conf-"));
  if (opts.bus !== false && confDir) {
    const users = busUsers(opts.bus?.callers ?? []);
    for (const u of [...users.map((x) => x.user), OBSERVER_USER])
      passwords.set(u, opts.passwords?.get(u) ?? randomBytes(12).toString("hex"));
    const conf = join(confDir, "nats-server.conf");
    await writeFile(
      conf,
      renderNatsServerConfig({
        users,
        password: (user) => ({ literal: passwords.get(user) as string }),
        // The tests' own connections (inspecting KV, subscribing to events) connect without
        // credentials as the observer; every service connects as its own user. `anonymous: false`
        // is the deployed configuration exactly: a connection without credentials is refused.
        extraUsers: [{ user: OBSERVER_USER, password: passwords.get(OBSERVER_USER) as string }],
        ...(opts.bus?.anonymous === false ? {} : { noAuthUser: OBSERVER_USER }),
        ...(opts.tls ? { tls: opts.tls } : {}),
      }),
      { mode: 0o600 },
    );
    args.push("-c", conf);
  }

  // No stdout: nats-server logs to stderr. `cleanup` kills it if the test process dies first.
  const subprocess = execa(bin, args, {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    buffer: false,
    reject: false,
    cleanup: true,
    forceKillAfterDelay: opts.stopGraceMs ?? 5_000,
  });

  const tail: string[] = [];
  const logTail = () => tail.join("\n");
  let announcedPort: ((port: number) => void) | undefined;
  const portAnnounced = new Promise<number>((resolve) => {
    announcedPort = resolve;
  });
  // Keep draining stderr for the server's whole life, or it blocks once the pipe fills.
  if (subprocess.stderr) {
    const lines = createInterface({ input: subprocess.stderr });
    lines.on("line", (line) => {
      tail.push(line);
      if (tail.length > 50) tail.shift();
      const port = parseListeningPort(line);
      if (port !== undefined) announcedPort?.(port);
    });
  }

  let exited = false;
  const exit = subprocess.then((result) => {
    exited = true;
    return result;
  });

  const cleanupStore = async () => {
    if (ownsStoreDir) await rm(storeDir, { recursive: true, force: true });
    if (confDir) await rm(confDir, { recursive: true, force: true });
  };
  const userName = (user: string) =>
    (BUS_SERVICES as readonly string[]).includes(user) ? serviceUser(user as BusService) : user;

  const stop = async () => {
    if (!exited) subprocess.kill("SIGTERM");
    await exit;
    await cleanupStore();
  };

  try {
    const port = await withTimeout(
      Promise.race([
        portAnnounced,
        exit.then((r) => {
          throw new NatsServerStartError(
            `nats-server exited before listening (exit code ${r.exitCode ?? "none"}, signal ${r.signal ?? "none"})`,
            logTail(),
          );
        }),
      ]),
      startTimeoutMs,
      () => new NatsServerStartError(`nats-server did not listen within ${startTimeoutMs}ms`, logTail()),
    );
    await withTimeout(
      probeUntilReady(port, () => exited),
      startTimeoutMs,
      () => new NatsServerStartError(`nats-server on port ${port} did not become ready`, logTail()),
    );
    const url = `nats://127.0.0.1:${port}`;
    const optionsOf = (who: string) => {
      const user = userName(who);
      const pass = passwords.get(user);
      if (opts.bus === false) return { servers: url };
      if (pass === undefined) throw new Error(`no bus user '${who}' on this nats-server`);
      return { servers: url, user, pass, inboxPrefix: inboxPrefixOf(user) };
    };
    return {
      url,
      optionsOf,
      envOf: (who): Record<string, string> => {
        const o = optionsOf(who);
        return o.user === undefined
          ? { NATS_URL: url }
          : { NATS_URL: url, NATS_USER: o.user, NATS_PASSWORD: o.pass as string };
      },
      port,
      storeDir,
      pid: subprocess.pid ?? -1,
      stop,
      kill: () => {
        if (!exited) subprocess.kill("SIGKILL");
      },
      logTail,
      passwords,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Retries the probe while the port is not accepting yet; stops as soon as the server is gone. */
async function probeUntilReady(port: number, hasExited: () => boolean): Promise<void> {
  let backoffMs = 10;
  for (;;) {
    if (hasExited()) throw new NatsServerStartError("nats-server exited during startup", "");
    try {
      await probe(port);
      return;
    } catch {
      // Connection refused or JetStream not announced yet: wait for the next attempt.
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 200);
    }
  }
}

/** A NATS server greets every connection with `INFO {json}`; ready means JetStream is in it. */
function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    let buffered = "";
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(1_000, () => done(new Error("probe timed out")));
    socket.on("error", done);
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      const eol = buffered.indexOf("\r\n");
      if (eol === -1) return;
      const line = buffered.slice(0, eol);
      if (!line.startsWith("INFO ")) return done(new Error(`unexpected greeting: ${line}`));
      try {
        const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
        done(info.jetstream ? undefined : new Error("JetStream not enabled yet"));
      } catch (err) {
        done(err as Error);
      }
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
