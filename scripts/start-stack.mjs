#!/usr/bin/env node
// Runs the whole stack on one machine: a nats-server with JetStream and the bus's users and
// permissions (unless NATS_URL is set) and every built HTTP service, each on its own NATS user,
// with prefixed logs (human-readable on a terminal, JSON otherwise) and a clean stop on Ctrl-C.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { busUsers, renderNatsServerConfig, serviceUser } from "@claude-gateway/contracts";
import { prettyFactory } from "pino-pretty";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SERVICES = [
  { name: "openai-gateway", dir: "services/openai-gateway", port: 8080 },
  { name: "conversational", dir: "services/conversational", port: 8081 },
  { name: "executor", dir: "services/executor", port: 8082 },
  { name: "breakglass", dir: "services/breakglass", port: 8083 },
];
const children = [];
let stopping = false;

// On a terminal, the services' JSON log lines are shown as pino-pretty renders them.
const pretty = process.stdout.isTTY
  ? prettyFactory({ colorize: true, ignore: "pid,hostname,service" })
  : undefined;
function show(name, line) {
  if (pretty && line.startsWith("{")) {
    try {
      process.stdout.write(`[${name}] ${pretty(line)}`);
      return;
    } catch {
      // Not a log line after all: shown as it is.
    }
  }
  console.log(`[${name}] ${line}`);
}

/** Says what is wrong in one line, and stops. */
function fail(message) {
  console.error(`[stack] ${message}`);
  process.exit(1);
}

function run(name, cmd, args, env) {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.on("error", (err) => fail(`${name}: cannot run ${cmd} (${err.code ?? err.message})`));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => show(name, line));
  }
  child.on("exit", (code, signal) => {
    console.log(`[${name}] exited (${signal ?? code})`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return child;
}

function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.end();
        resolve();
      });
      socket.on("error", () => {
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function stop(code = 0) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null))).then(
    () => process.exit(code),
  );
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

function isListening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

function findNatsServer() {
  const candidates = process.env.NATS_SERVER_BIN
    ? [process.env.NATS_SERVER_BIN]
    : [
        ...(process.env.PATH ?? "")
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, "nats-server")),
        "/usr/sbin/nats-server",
      ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return fail(
    "nats-server not found (looked in NATS_SERVER_BIN, PATH and /usr/sbin). Install 2.10 or newer " +
      "(Debian 13: `apt-get install nats-server`; on Debian 12 see .ci/run, which takes it from trixie), " +
      "or point NATS_URL at a running server.",
  );
}

/**
 * The development bus: the same users and permissions as a deployment (generated from
 * packages/contracts/src/bus.ts and deploy/nats/callers.json), with passwords made once and kept in
 * the data directory (mode 0600), so the default run is never an open bus.
 */
function developmentBus(dataDir, port) {
  const dir = join(dataDir, "nats");
  mkdirSync(join(dir, "store"), { recursive: true });
  const callersFile = join(root, "deploy", "nats", "callers.json");
  const callers = existsSync(callersFile)
    ? (JSON.parse(readFileSync(callersFile, "utf8")).callers ?? [])
    : [];
  const users = busUsers(callers);
  const credsFile = join(dir, "credentials.json");
  const saved = existsSync(credsFile) ? JSON.parse(readFileSync(credsFile, "utf8")) : {};
  const passwords = Object.fromEntries(
    users.map((u) => [u.user, saved[u.user] ?? randomBytes(24).toString("hex")]),
  );
  writeFileSync(credsFile, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
  const conf = join(dir, "nats-server.conf");
  writeFileSync(
    conf,
    renderNatsServerConfig({
      users,
      listen: `127.0.0.1:${port}`,
      storeDir: join(dir, "store"),
      password: (user) => ({ literal: passwords[user] }),
    }),
    { mode: 0o600 },
  );
  return { conf, passwords, credsFile };
}

const dataDir = process.env.STACK_DATA_DIR ?? join(root, ".data");
let natsUrl = process.env.NATS_URL;
/** Each service's NATS settings: its own user on the development bus; with NATS_URL, the caller's env. */
let natsEnvOf = () => ({});
if (!natsUrl) {
  const port = Number(process.env.STACK_NATS_PORT ?? 4222);
  if (await isListening(port)) {
    fail(
      `port ${port} is already in use (another nats-server?). Run on another port with ` +
        `STACK_NATS_PORT=${port + 1}, or use that server with NATS_URL=nats://127.0.0.1:${port} ` +
        "(and NATS_USER/NATS_PASSWORD if it needs them).",
    );
  }
  const bin = findNatsServer();
  const bus = developmentBus(dataDir, port);
  run("nats", bin, ["-c", bus.conf]);
  await waitForPort(port);
  natsUrl = `nats://127.0.0.1:${port}`;
  natsEnvOf = (name) => ({ NATS_USER: serviceUser(name), NATS_PASSWORD: bus.passwords[serviceUser(name)] });
  console.log(`[stack] NATS on ${natsUrl}; every user's password is in ${bus.credsFile}`);
}
// Breakglass never takes the callers' tokens (a gateway caller must not open the console that can
// reset the dev VM): only its own, from BREAKGLASS_AUTH_TOKENS(_FILE). Without them its protected
// routes answer 503 auth_not_configured. Empty values count as unset.
function breakglassAuth() {
  return {
    AUTH_TOKENS: process.env.BREAKGLASS_AUTH_TOKENS ?? "",
    AUTH_TOKENS_FILE: process.env.BREAKGLASS_AUTH_TOKENS_FILE ?? "",
  };
}

// As root the executor runs every job as its slot's runner user. A developer's own user cannot
// switch users, so there agents run as that user, which the executor only accepts when told so.
const agentIsolation = process.env.AGENT_ISOLATION ?? (process.getuid?.() === 0 ? "auto" : "none");
if (agentIsolation === "none") {
  console.log(
    "[stack] AGENT_ISOLATION=none: agents run as your user and can read what you can (run as root to isolate them)",
  );
}

for (const s of SERVICES) {
  if (!existsSync(join(root, s.dir, "dist", "main.js"))) {
    console.log(`[stack] ${s.name}: not built, skipped`);
    continue;
  }
  run(s.name, process.execPath, [join(s.dir, "dist", "main.js")], {
    ...(s.name === "breakglass" ? breakglassAuth() : { NATS_URL: natsUrl, ...natsEnvOf(s.name) }),
    PORT: process.env[`${s.name.toUpperCase().replaceAll("-", "_")}_PORT`] ?? String(s.port),
    WORKSPACE_ROOT: process.env.WORKSPACE_ROOT ?? join(dataDir, "workspaces"),
    ...(s.name === "executor" ? { AGENT_ISOLATION: agentIsolation } : {}),
  });
}
