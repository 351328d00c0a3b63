import { chmod, chown, lstat, mkdir, realpath, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { type Launched, localLauncher } from "@claude-gateway/claude";
import type { Logger } from "@claude-gateway/service-kit";
import type { AgentSandbox, JobSandbox } from "../sandbox/sandbox.js";
import {
  LaunchControl,
  type LaunchEvent,
  lineReader,
  type RunnerReply,
  RunnerRequest,
  type SandboxWire,
} from "./protocol.js";

export interface RunnerServerOptions {
  socketPath: string;
  sandbox: AgentSandbox;
  /** WORKSPACE_ROOT: checkouts are `<root>/jobs/<name>`. */
  root: string;
  /** The only binary it starts (the claude CLI). */
  bin: string;
  /** The executor's user: the only one that may connect. */
  client: { uid: number; gid: number };
  logger: Logger;
}

export interface RunnerServer {
  close(): Promise<void>;
}

/**
 * The runner: the small root process beside a non-root executor that runs each job's CLI as the
 * job's runner user. It holds no secret of the service; it accepts connections only from the
 * executor's user, starts nothing but the claude binary, takes the user a job runs as from its own
 * slot bookkeeping (never from the request), and kills a job's processes when its executor goes away.
 */
export async function serveRunner(opts: RunnerServerOptions): Promise<RunnerServer> {
  const boxes = new Map<string, JobSandbox>();
  /** The processes each job's sandbox started: stopped if its executor goes away. */
  const running = new Map<string, Set<Launched>>();
  const closeBox = async (jobId: string) => {
    const box = boxes.get(jobId);
    if (!box) return;
    boxes.delete(jobId);
    for (const launched of running.get(jobId) ?? []) await launched.stop().catch(() => {});
    running.delete(jobId);
    await box.close();
  };
  const bin = await realpath(opts.bin);
  const root = resolve(opts.root);
  const log = opts.logger;

  const handle = async (req: RunnerRequest): Promise<RunnerReply> => {
    if (req.op === "ping") return { ok: true };
    const box = boxes.get((req as { jobId: string }).jobId);
    if (!box) return { ok: false, error: `no sandbox for job ${(req as { jobId: string }).jobId}` };
    switch (req.op) {
      case "adopt": {
        const dir = resolve(req.dir);
        if (dirname(dir) !== join(root, "jobs")) return { ok: false, error: `${dir} is not a job checkout` };
        const s = await lstat(dir);
        if (!s.isDirectory()) return { ok: false, error: `${dir} is not a directory` };
        await box.adopt(dir);
        return { ok: true };
      }
      case "place":
        await box.placeFile(req.from, req.to);
        return { ok: true };
      case "take": {
        const problem = await box.takeFile(req.path, req.to);
        return { ok: true, ...(problem ? { problem } : {}) };
      }
      case "reap":
        return { ok: true, pids: await box.reap() };
      default:
        return { ok: false, error: "unknown request" };
    }
  };

  const launch = async (
    socket: Socket,
    req: Extract<RunnerRequest, { op: "launch" }>,
    send: (e: LaunchEvent) => void,
  ) => {
    const box = boxes.get(req.jobId);
    if (!box) return send({ t: "error", error: `no sandbox for job ${req.jobId}` });
    if ((await realpath(req.spec.file).catch(() => "")) !== bin)
      return send({ t: "error", error: `the runner starts only ${bin}` });
    const cwd = resolve(req.spec.cwd);
    const underJobs = !relative(join(root, "jobs"), cwd).startsWith("..");
    const underHome = !relative(box.home, cwd).startsWith("..");
    if (!underJobs && !underHome)
      return send({ t: "error", error: `${cwd} is not the job's checkout or home` });

    const launched: Launched = localLauncher(
      {
        ...req.spec,
        cwd,
        // The job's own places, whatever the request says.
        env: { ...req.spec.env, ...box.env },
        ...(box.runAs ? { runAs: box.runAs } : {}),
      },
      log,
    );
    const mine = running.get(req.jobId) ?? new Set<Launched>();
    running.set(req.jobId, mine.add(launched));
    send({ t: "pid", ...(launched.pid !== undefined ? { pid: launched.pid } : {}) });
    const pipe = (stream: NodeJS.ReadableStream, t: "out" | "err") => {
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        if (!socket.write(`${JSON.stringify({ t, d })}\n`)) {
          stream.pause();
          socket.once("drain", () => stream.resume());
        }
      });
    };
    pipe(launched.stdout, "out");
    pipe(launched.stderr, "err");
    const outputDone = Promise.all(
      [launched.stdout, launched.stderr].map((s) => new Promise<void>((r) => s.once("close", () => r()))),
    );
    let exited = false;
    socket.on("close", () => {
      // The executor went away mid-run: nobody will read the result; nothing of the job may stay.
      if (!exited) void launched.stop().then(() => launched.reap());
    });
    const read = lineReader(
      (value) => {
        const control = LaunchControl.safeParse(value);
        if (!control.success) return;
        const c = control.data;
        if (c.op === "stop") void launched.stop().then(() => send({ t: "stopped" }));
        else if (c.op === "reap") void launched.reap().then((pids) => send({ t: "reaped", pids }));
        else if (c.op === "stdin") launched.stdin?.write(c.data);
        else launched.stdin?.end();
      },
      () => socket.destroy(),
    );
    socket.on("data", (chunk: string) => read(chunk));
    const exit = await launched.exit;
    await outputDone;
    exited = true;
    // What the run left behind goes before its exit is told: the client's next step may reuse the slot.
    const reaped = await launched.reap();
    if (reaped.length) log.warn({ jobId: req.jobId, reaped }, "killed processes the run left behind");
    mine.delete(launched);
    send({ t: "exit", ...exit });
  };

  /**
   * A job's control connection: it opens the sandbox and lives as long as the job. `close` on it
   * ends the job's sandbox; losing it (the executor died) does too, after stopping what runs.
   */
  const control = (socket: Socket, jobId: string, send: (v: RunnerReply) => void) => {
    let owned = false;
    socket.on("close", () => {
      if (owned)
        void closeBox(jobId).catch((err: unknown) => log.warn({ jobId, err }, "could not close a sandbox"));
    });
    const read = lineReader(
      (value) => {
        if ((value as { op?: unknown }).op !== "close") return;
        owned = false;
        closeBox(jobId)
          .then(
            () => send({ ok: true }),
            (err: unknown) => send({ ok: false, error: String((err as Error).message ?? err) }),
          )
          .finally(() => socket.end());
      },
      () => socket.destroy(),
    );
    socket.on("data", (chunk: string) => read(chunk));
    if (boxes.has(jobId)) {
      send({ ok: false, error: `job ${jobId} already has a sandbox` });
      socket.end();
      return;
    }
    opts.sandbox.open(jobId).then(
      (box) => {
        if (socket.destroyed) return void box.close();
        boxes.set(jobId, box);
        owned = true;
        send({ ok: true, sandbox: wire(box) });
      },
      (err: unknown) => {
        send({ ok: false, error: String((err as Error).message ?? err) });
        socket.end();
      },
    );
  };

  const server: Server = createServer((socket) => {
    socket.setEncoding("utf8");
    let first = true;
    const send = (value: RunnerReply | LaunchEvent) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
    };
    const read = lineReader(
      (value) => {
        if (!first) return;
        first = false;
        socket.removeAllListeners("data");
        const parsed = RunnerRequest.safeParse(value);
        if (!parsed.success) {
          send({ ok: false, error: `bad request: ${parsed.error.issues[0]?.message ?? "invalid"}` });
          socket.end();
          return;
        }
        const req = parsed.data;
        if (req.op === "open") {
          control(socket, req.jobId, send);
          return;
        }
        if (req.op === "close") {
          closeBox(req.jobId)
            .then(
              () => send({ ok: true }),
              (err: unknown) => send({ ok: false, error: String((err as Error).message ?? err) }),
            )
            .finally(() => socket.end());
          return;
        }
        if (req.op === "launch") {
          launch(socket, req, send)
            .catch((err: unknown) => send({ t: "error", error: String((err as Error).message ?? err) }))
            .finally(() => socket.end());
          return;
        }
        handle(req)
          .then(send, (err: unknown) => send({ ok: false, error: String((err as Error).message ?? err) }))
          .finally(() => socket.end());
      },
      () => socket.destroy(),
    );
    socket.on("data", (chunk: string) => read(chunk));
    socket.on("error", () => {});
  });

  // The socket's directory is root's and not writable by others: no agent (they run in this
  // container) can replace the socket with its own and read what the executor sends.
  const dir = dirname(resolve(opts.socketPath));
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chown(dir, 0, 0);
  await chmod(dir, 0o755);
  await rm(opts.socketPath, { force: true });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(opts.socketPath, () => res());
  });
  await chown(opts.socketPath, opts.client.uid, opts.client.gid);
  await chmod(opts.socketPath, 0o600);
  log.info({ socket: opts.socketPath, client: opts.client.uid }, "runner listening");

  return {
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      for (const id of [...boxes.keys()]) await closeBox(id).catch(() => {});
    },
  };
}

function wire(box: JobSandbox): SandboxWire {
  return {
    home: box.home,
    configDir: box.configDir,
    staging: box.staging,
    env: { ...box.env },
    ...(box.runAs ? { runAs: box.runAs } : {}),
    ...(box.user ? { user: box.user } : {}),
  };
}
