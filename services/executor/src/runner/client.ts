import { connect, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import type { LaunchExit, Launched, Launcher } from "@claude-gateway/claude";
import type { JobSandbox } from "../sandbox/sandbox.js";
import {
  type LaunchControl,
  LaunchEvent,
  lineReader,
  RunnerReply,
  type RunnerRequest,
  type SandboxWire,
} from "./protocol.js";

export class RunnerError extends Error {
  override readonly name = "RunnerError";
}

export interface RunnerClient {
  /** Undefined when the runner answers; else why not (for /readyz). */
  problem(): Promise<string | undefined>;
  open(jobId: string): Promise<JobSandbox>;
}

/** The executor's side of the runner socket (see server.ts). */
export function runnerClient(socketPath: string): RunnerClient {
  const call = (req: RunnerRequest): Promise<Extract<RunnerReply, { ok: true }>> =>
    new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.setEncoding("utf8");
      let settled = false;
      const done = (err: Error | undefined, reply?: Extract<RunnerReply, { ok: true }>) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (err) reject(err);
        else resolve(reply!);
      };
      const read = lineReader(
        (value) => {
          const reply = RunnerReply.safeParse(value);
          if (!reply.success) return done(new RunnerError("the runner sent a malformed reply"));
          if (!reply.data.ok) return done(new RunnerError(`runner: ${reply.data.error}`));
          done(undefined, reply.data);
        },
        (reason) => done(new RunnerError(`the runner sent ${reason}`)),
      );
      socket.on("data", (chunk: string) => read(chunk));
      socket.on("error", (err) =>
        done(new RunnerError(`the runner at ${socketPath} is unreachable (${err.message})`)),
      );
      socket.on("close", () => done(new RunnerError("the runner closed the connection without an answer")));
      socket.write(`${JSON.stringify(req)}\n`);
    });

  const launcherFor =
    (jobId: string): Launcher =>
    (spec) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = spec.input === undefined ? new PassThrough() : undefined;
      const socket = connect(socketPath);
      socket.setEncoding("utf8");
      let pid: number | undefined;
      let resolveExit!: (e: LaunchExit) => void;
      const exit = new Promise<LaunchExit>((r) => {
        resolveExit = r;
      });
      const waiting: { stopped: (() => void)[]; reaped: ((pids: number[]) => void)[] } = {
        stopped: [],
        reaped: [],
      };
      let ended = false;
      const end = (e: LaunchExit, why?: string) => {
        if (ended) return;
        ended = true;
        if (why) stderr.write(`\n${why}\n`);
        stdout.end();
        stderr.end();
        resolveExit(e);
        for (const w of waiting.stopped.splice(0)) w();
        for (const w of waiting.reaped.splice(0)) w([]);
      };
      const send = (c: LaunchControl) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(c)}\n`);
      };
      const read = lineReader(
        (value) => {
          const ev = LaunchEvent.safeParse(value);
          if (!ev.success) return;
          const e = ev.data;
          if (e.t === "pid") pid = e.pid;
          else if (e.t === "out") stdout.write(e.d);
          else if (e.t === "err") stderr.write(e.d);
          else if (e.t === "stopped") waiting.stopped.shift()?.();
          else if (e.t === "reaped") waiting.reaped.shift()?.(e.pids);
          else if (e.t === "error") end({ code: "ERUNNER" }, `runner: ${e.error}`);
          else
            end({
              ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
              ...(e.signal ? { signal: e.signal } : {}),
              ...(e.code ? { code: e.code } : {}),
            });
        },
        () => socket.destroy(),
      );
      socket.on("data", (chunk: string) => read(chunk));
      socket.on("error", () => {});
      // The runner kills the job's processes when this connection goes; the run ends as a crash.
      socket.on("close", () =>
        end({ signal: "SIGKILL" }, "the runner connection closed before the CLI exited"),
      );
      stdin?.setEncoding("utf8");
      stdin?.on("data", (data: string) => send({ op: "stdin", data }));
      stdin?.on("finish", () => send({ op: "stdin_end" }));
      // The user it runs as is the runner's to say (its slot bookkeeping), never ours.
      const wireSpec = {
        file: spec.file,
        args: [...spec.args],
        cwd: spec.cwd,
        env: { ...spec.env },
        runId: spec.runId,
        ...(spec.input !== undefined ? { input: spec.input } : {}),
        ...(spec.killGraceMs !== undefined ? { killGraceMs: spec.killGraceMs } : {}),
      };
      socket.write(`${JSON.stringify({ op: "launch", jobId, spec: wireSpec } satisfies RunnerRequest)}\n`);

      let stopping: Promise<void> | undefined;
      const launched: Launched = {
        get pid() {
          return pid;
        },
        stdout,
        stderr,
        stdin,
        exit,
        stop: () => {
          stopping ??= ended
            ? Promise.resolve()
            : new Promise<void>((r) => {
                waiting.stopped.push(r);
                send({ op: "stop" });
              });
          return stopping;
        },
        // After the exit the runner has already reaped (and does again when the sandbox closes).
        reap: () =>
          ended || socket.destroyed
            ? Promise.resolve([])
            : new Promise<number[]>((r) => {
                waiting.reaped.push(r);
                send({ op: "reap" });
              }),
      };
      return launched;
    };

  return {
    async problem() {
      return call({ op: "ping" }).then(
        () => undefined,
        (err: Error) => err.message,
      );
    },
    async open(jobId) {
      // The control connection lives as long as the job: if this process dies, the runner stops
      // the job's processes and removes its sandbox.
      const { socket, reply, next } = await controlConnection(socketPath, jobId);
      const w = reply.sandbox as SandboxWire;
      let closing: Promise<void> | undefined;
      return {
        home: w.home,
        configDir: w.configDir,
        staging: w.staging,
        env: w.env,
        runAs: w.runAs,
        user: w.user,
        launcher: launcherFor(jobId),
        adopt: async (dir) => {
          await call({ op: "adopt", jobId, dir });
        },
        placeFile: async (from, to) => {
          await call({ op: "place", jobId, from, to });
        },
        reap: async () => (await call({ op: "reap", jobId })).pids ?? [],
        takeFile: async (path, to) => (await call({ op: "take", jobId, path, to })).problem,
        close: () => {
          closing ??= (async () => {
            if (socket.destroyed) return;
            socket.write(`${JSON.stringify({ op: "close", jobId } satisfies RunnerRequest)}\n`);
            const r = await next();
            socket.destroy();
            if (!r.ok) throw new RunnerError(`runner: ${r.error}`);
          })();
          return closing;
        },
      };
    },
  };
}

/** Opens a job's sandbox on a connection kept for the job's lifetime. */
function controlConnection(
  socketPath: string,
  jobId: string,
): Promise<{ socket: Socket; reply: Extract<RunnerReply, { ok: true }>; next: () => Promise<RunnerReply> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.setEncoding("utf8");
    const replies: RunnerReply[] = [];
    const waiters: ((r: RunnerReply) => void)[] = [];
    const push = (r: RunnerReply) => {
      const w = waiters.shift();
      if (w) w(r);
      else replies.push(r);
    };
    const next = () =>
      new Promise<RunnerReply>((r) => {
        const ready = replies.shift();
        if (ready) r(ready);
        else waiters.push(r);
      });
    const read = lineReader(
      (value) => {
        const reply = RunnerReply.safeParse(value);
        push(reply.success ? reply.data : { ok: false, error: "a malformed reply" });
      },
      () => socket.destroy(),
    );
    socket.on("data", (chunk: string) => read(chunk));
    socket.on("error", (err) => push({ ok: false, error: `unreachable at ${socketPath} (${err.message})` }));
    socket.on("close", () => push({ ok: false, error: "the runner closed the job's connection" }));
    socket.write(`${JSON.stringify({ op: "open", jobId } satisfies RunnerRequest)}\n`);
    void next().then((first) => {
      if (first.ok) resolve({ socket, reply: first, next });
      else {
        socket.destroy();
        reject(new RunnerError(`runner: ${first.error}`));
      }
    });
  });
}
