import { type Logger, settlesWithin } from "@claude-gateway/service-kit";
import { isMutating, MUTATING_VERBS, VERBS, type Verb } from "./core/verbs.js";
import type { VerbResult, VmInfo } from "./core/wire.js";
import { ConflictError, SshUnavailableError } from "./errors.js";
import type { PveRunner } from "./ports.js";

export interface VmDeps {
  /** Absent when SSH is not configured; `unavailable` then says why. */
  runner: PveRunner | undefined;
  unavailable?: string;
  vmid: number;
  logger: Logger;
  onVerb?: (caller: string, verb: Verb, outcome: "ok" | "failed" | "timeout") => void;
  /** How many results `GET /api/vm` lists. */
  keepRecent?: number;
}

export type VmService = ReturnType<typeof createVmService>;

/**
 * The power verbs: one mutating verb at a time (a second one is a 409, so two phones cannot
 * interleave a cycle and a reset), read-only verbs any time. A verb runs to its end even if the
 * client goes away: a half-done cycle is worse than an unread result.
 */
export function createVmService(deps: VmDeps) {
  const running = new Map<number, Verb>();
  const inflight = new Set<Promise<unknown>>();
  const recent: VmInfo["recent"] = [];
  let nextId = 0;

  return {
    info(): VmInfo {
      return {
        vmid: deps.vmid,
        available: deps.runner !== undefined,
        ...(deps.runner === undefined ? { reason: deps.unavailable ?? "SSH is not configured" } : {}),
        verbs: VERBS,
        mutating: MUTATING_VERBS,
        running: [...running.values()],
        recent: [...recent],
      };
    },

    /**
     * Checks synchronously (503 without SSH, 409 while another mutating verb runs) and then
     * runs the verb; the HTTP route can thus answer errors before it starts streaming.
     */
    run(verb: Verb, caller: string): Promise<VerbResult> {
      const runner = deps.runner;
      if (!runner) throw new SshUnavailableError(deps.unavailable ?? "SSH is not configured");
      if (isMutating(verb)) {
        const busy = [...running.values()].find(isMutating);
        if (busy) throw new ConflictError("vm_busy", `${busy} is running; wait for it to finish`);
      }
      const id = nextId++;
      running.set(id, verb);
      deps.logger.info({ verb, caller, vmid: deps.vmid }, "vm verb started");
      const execute = async (): Promise<VerbResult> => {
        try {
          const r = { ...(await runner.run(verb)), vmid: deps.vmid };
          const outcome = r.timedOut ? "timeout" : r.ok ? "ok" : "failed";
          deps.onVerb?.(caller, verb, outcome);
          deps.logger.info(
            {
              verb,
              caller,
              vmid: deps.vmid,
              exitCode: r.exitCode,
              timedOut: r.timedOut,
              durationMs: r.durationMs,
            },
            "vm verb finished",
          );
          const { output: _output, ...summary } = r;
          recent.unshift({ ...summary, caller });
          recent.length = Math.min(recent.length, deps.keepRecent ?? 10);
          return r;
        } finally {
          running.delete(id);
        }
      };
      const p = execute();
      const tracked = p.catch(() => {}).finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      return p;
    },

    /** Shutdown: waits up to `graceMs` for running verbs (a cycle cut in half is worse than a late exit). */
    async drain(graceMs: number): Promise<void> {
      if (inflight.size === 0) return;
      await settlesWithin(Promise.allSettled([...inflight]), graceMs);
    },
  };
}
