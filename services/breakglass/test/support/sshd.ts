import { existsSync, mkdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";

export interface TestSshd {
  port: number;
  /** `[127.0.0.1]:port ssh-ed25519 …`: the only line a strict client needs. */
  knownHostsLine: string;
  /** The client key authorized with the forced command. */
  clientKey: string;
  user: string;
  stop(): Promise<void>;
}

export interface TestSshdOptions {
  dir: string;
  /** The forced command of the client key (`restrict,command="…"`). */
  forcedCommand: string;
  /** Set in the forced command's environment (sshd_config `SetEnv`). */
  setEnv?: Record<string, string>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the port answers with an SSH banner. */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(2000);
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString("latin1").startsWith("SSH-2.0-"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A real OpenSSH server on 127.0.0.1 with its own config, host key and authorized_keys in `dir`,
 * run in the foreground as the current user. One client key, restricted to `forcedCommand`.
 */
export async function startTestSshd(opts: TestSshdOptions): Promise<TestSshd> {
  const { dir } = opts;
  // sshd insists on its privilege-separation directory when started as root; Debian creates it
  // only when the service starts, which never happens in a container.
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test-host", "-f", hostKey]);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "breakglass-test", "-f", clientKey]);
  const clientPub = (await readFile(`${clientKey}.pub`, "utf8")).trim();
  const authorizedKeys = join(dir, "authorized_keys");
  await writeFile(authorizedKeys, `restrict,command="${opts.forcedCommand}" ${clientPub}\n`, { mode: 0o600 });

  const user = userInfo().username;
  const setEnv = Object.entries(opts.setEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      "StrictModes no",
      "UsePAM no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      `AllowUsers ${user}`,
      "AcceptEnv LANG LC_*",
      ...(setEnv.length ? [`SetEnv ${setEnv.join(" ")}`] : []),
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );

  let child: ResultPromise | undefined;
  let port = 0;
  // A port picked free can be taken before sshd binds it: try another.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const candidate = execa("/usr/sbin/sshd", ["-D", "-e", "-f", config, "-p", String(port)], {
      reject: false,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      buffer: false,
    });
    let stderr = "";
    // With LogLevel VERBOSE, sshd says "Server listening on … port N." once it is bound: wait for that.
    const ready = new Promise<"ready">((resolve) => {
      candidate.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/Server listening on 127\.0\.0\.1 port/.test(stderr)) resolve("ready");
      });
    });
    const exited = candidate.then(() => "exited" as const);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 20_000);
    });
    const outcome = await Promise.race([ready, exited, timeout]);
    clearTimeout(timer);
    if (outcome === "ready" && (await banner(port))) {
      child = candidate;
    } else {
      candidate.kill("SIGKILL");
      await candidate;
      if (!/Address already in use|Cannot bind/i.test(stderr)) {
        throw new Error(`sshd did not start (${outcome}): ${stderr.trim()}`);
      }
    }
  }
  if (!child) throw new Error("sshd could not bind a free port");
  const hostPub = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  const running = child;
  return {
    port,
    knownHostsLine: `[127.0.0.1]:${port} ${hostPub}`,
    clientKey,
    user,
    stop: async () => {
      running.kill("SIGTERM");
      await running;
    },
  };
}
