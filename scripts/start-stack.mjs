#!/usr/bin/env node
// Runs the whole stack on one machine: a nats-server with JetStream (unless NATS_URL is set)
// and every built HTTP service, with prefixed logs and a clean stop on Ctrl-C.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SERVICES = [
  { name: "openai-gateway", dir: "services/openai-gateway", port: 8080 },
  { name: "conversational", dir: "services/conversational", port: 8081 },
  { name: "executor", dir: "services/executor", port: 8082 },
  { name: "breakglass", dir: "services/breakglass", port: 8083 },
];
const children = [];
let stopping = false;

function run(name, cmd, args, env) {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => console.log(`[${name}] ${line}`));
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

let natsUrl = process.env.NATS_URL;
if (!natsUrl) {
  const port = Number(process.env.STACK_NATS_PORT ?? 4222);
  const store = join(process.env.STACK_DATA_DIR ?? join(root, ".data"), "nats");
  mkdirSync(store, { recursive: true });
  const bin =
    process.env.NATS_SERVER_BIN ??
    (existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server");
  run("nats", bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store]);
  await waitForPort(port);
  natsUrl = `nats://127.0.0.1:${port}`;
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

for (const s of SERVICES) {
  if (!existsSync(join(root, s.dir, "dist", "main.js"))) {
    console.log(`[stack] ${s.name}: not built, skipped`);
    continue;
  }
  run(s.name, process.execPath, [join(s.dir, "dist", "main.js")], {
    ...(s.name === "breakglass" ? breakglassAuth() : {}),
    NATS_URL: natsUrl,
    PORT: process.env[`${s.name.toUpperCase().replaceAll("-", "_")}_PORT`] ?? String(s.port),
    WORKSPACE_ROOT:
      process.env.WORKSPACE_ROOT ?? join(process.env.STACK_DATA_DIR ?? join(root, ".data"), "workspaces"),
  });
}
