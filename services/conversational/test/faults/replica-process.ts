import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buckets } from "@claude-gateway/contracts";
import { processesWithEnv, tempDir } from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { ConversationRecord } from "../../src/core/record.js";
import { lockKey } from "../../src/lock.js";
import type { World } from "../harness.js";

// Fault tests run the built service (`dist/main.js`) as child processes, so a replica can be
// SIGKILLed or SIGSTOPped like a pod, each with its own HOME (its CLI processes are found by it).
const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

export interface Replica {
  id: string;
  home: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The replica's JSON log lines (LOG_LEVEL info), for the failure's story. */
  logs: Array<Record<string, unknown>>;
}

/** Starts replicas of one world and stops (or reaps) whatever they left at the end. */
export function replicaFleet(world: () => World) {
  const homes: Array<{ dir: string; cleanup(): Promise<void> }> = [];
  const replicas: Replica[] = [];

  async function start(id: string, env: Record<string, string> = {}): Promise<Replica> {
    const w = world();
    const home = await tempDir(`cg-fault-home-${id}-`);
    homes.push(home);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home.dir,
        ANTHROPIC_BASE_URL: w.stub.url,
        ANTHROPIC_API_KEY: "sk-ant-test-dummy",
        CLAUDE_CODE_MAX_RETRIES: "0",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        ...w.baseEnv(),
        LOG_LEVEL: "info",
        REPLICA_ID: id,
        // Short leases: a dead or frozen replica's conversations are taken over within seconds.
        CONVERSATION_LEASE_SECONDS: "2",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const logs: Array<Record<string, unknown>> = [];
    // Read stderr too (a full pipe would block the replica); its tail explains a failed start.
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        logs.push(entry);
        if (entry.msg === "conversational started")
          resolve(`http://127.0.0.1:${(entry as { port: number }).port}`);
      });
      void exited.then((code) => {
        const last = logs.slice(-3).map((l) => JSON.stringify(l));
        reject(new Error(`replica ${id} exited with ${code}: ${[...last, stderr].join("\n")}`));
      });
    });
    const replica = { id, home: home.dir, url, child, exited, logs };
    replicas.push(replica);
    return replica;
  }

  async function stopAll(): Promise<void> {
    for (const r of replicas) {
      if (!isRunning(r)) continue;
      r.child.kill("SIGCONT");
      r.child.kill("SIGTERM");
    }
    await Promise.all(replicas.map((r) => r.exited));
    // Whatever a killed replica left (the assertions have looked already).
    for (const r of replicas) for (const pid of await processesWithEnv({ HOME: r.home })) kill(pid);
    await Promise.all(homes.map((h) => h.cleanup()));
  }

  return { start, stopAll };
}

export const isRunning = (r: Replica) => r.child.exitCode === null && r.child.signalCode === null;

/** Live processes of a replica other than the replica itself: its CLIs (and whatever they started). */
export async function clisOf(r: Replica): Promise<number[]> {
  return (await processesWithEnv({ HOME: r.home })).filter((pid) => pid !== r.child.pid);
}

function kill(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** The conversations bucket as a test reads it: records and lock keys, with their revisions. */
export async function openConversations(natsUrl: string): Promise<{
  nc: NatsConnection;
  kv: KV;
  record(id: string): Promise<{ record: ConversationRecord; revision: number } | undefined>;
  lockHeld(id: string): Promise<boolean>;
}> {
  const nc = await connect({ servers: natsUrl });
  const kv = await new Kvm(jetstream(nc)).open(buckets.conversations);
  return {
    nc,
    kv,
    async record(id) {
      const entry = await kv.get(id);
      if (entry?.operation !== "PUT") return undefined;
      return { record: entry.json<ConversationRecord>(), revision: entry.revision };
    },
    async lockHeld(id) {
      return (await kv.get(lockKey(id)))?.operation === "PUT";
    },
  };
}

/** Named phase durations of a file, printed as one markdown table at its end. */
export function timings() {
  const rows: Array<[string, number]> = [];
  return {
    add(what: string, ms: number) {
      rows.push([what, ms]);
    },
    table(title: string): string {
      const lines = [`| ${title} | ms |`, "|---|---:|"];
      for (const [what, ms] of rows) lines.push(`| ${what} | ${ms.toFixed(0)} |`);
      return lines.join("\n");
    },
  };
}
