import type { Logger } from "@claude-gateway/service-kit";
import { execa } from "execa";
import { type PveCommandOptions, pveVerbCommand, type Verb } from "../core/verbs.js";
import type { VerbResult } from "../core/wire.js";
import { SshUnavailableError } from "../errors.js";
import type { PveRunner } from "../ports.js";

export interface SshRunnerOptions extends PveCommandOptions {
  timeoutMs: number;
  /** Output (stdout and stderr interleaved) kept beyond this is dropped and `truncated` set. */
  maxOutputBytes: number;
  logger?: Logger;
}

/** Runs a verb as `ssh … pve <verb>` with execa: an argv list, no shell, a deadline and an output cap. */
export function sshPveRunner(opts: SshRunnerOptions): PveRunner {
  return {
    async run(verb: Verb): Promise<Omit<VerbResult, "vmid">> {
      const cmd = pveVerbCommand(verb, opts);
      const startedAt = new Date();
      const child = execa(cmd.file, cmd.args, {
        env: cmd.env,
        extendEnv: false,
        stdin: "ignore",
        all: true,
        buffer: false,
        reject: false,
        timeout: opts.timeoutMs,
        forceKillAfterDelay: 5000,
      });
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      child.all?.on("data", (chunk: Buffer) => {
        const room = opts.maxOutputBytes - kept;
        if (chunk.length > room) truncated = true;
        if (room <= 0) return;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(part);
        kept += part.length;
      });
      const r = await child;
      if (r.code === "ENOENT" || r.code === "EACCES") {
        throw new SshUnavailableError(`cannot run ${cmd.file} (${r.code})`, { cause: r });
      }
      const exitCode = r.exitCode ?? null;
      const output = Buffer.concat(chunks).toString("utf8");
      opts.logger?.debug({ verb, exitCode, timedOut: r.timedOut }, "ssh finished");
      return {
        verb,
        ok: exitCode === 0 && !r.timedOut,
        exitCode,
        signal: r.signal ?? null,
        timedOut: r.timedOut,
        output,
        truncated,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
      };
    },
  };
}
