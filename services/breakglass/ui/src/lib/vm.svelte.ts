import { isMutating, type Verb } from "../../../src/core/verbs.js";
import type { VerbResult, VmInfo } from "../../../src/core/wire.js";
import { type Api, AuthRequired, messageOf } from "./api.svelte.js";

export const VERB_INFO: Record<Verb, { label: string; help: string; confirm?: string }> = {
  status: { label: "Status", help: "What the host says about the VM." },
  forensics: { label: "Forensics", help: "Status, config and recent tasks, before anything restarts." },
  cycle: {
    label: "Cycle",
    help: "Clean shutdown, then start.",
    confirm: "Shut the VM down cleanly (forced off if it ignores ACPI) and start it again?",
  },
  reset: {
    label: "Reset",
    help: "Hard reset, like the reset button.",
    confirm: "Hard-reset the VM? Unsaved writes in the guest are lost.",
  },
  stop: {
    label: "Stop",
    help: "Clean shutdown; it stays off.",
    confirm: "Shut the VM down and leave it off?",
  },
  start: { label: "Start", help: "Boot a stopped VM.", confirm: "Start the VM?" },
};

/** The VM controls: what the server offers, the confirm step, the last output. */
export class VmStore {
  info = $state<VmInfo | null>(null);
  running = $state<Verb | null>(null);
  confirming = $state<Verb | null>(null);
  result = $state<VerbResult | null>(null);
  error = $state<string | null>(null);

  constructor(private readonly api: Api) {}

  async load(): Promise<void> {
    try {
      this.info = await this.api.json<VmInfo>("/api/vm");
    } catch (err) {
      if (!(err instanceof AuthRequired)) this.error = messageOf(err);
    }
  }

  /** Read-only verbs run at once; mutating ones wait for `confirm`. */
  request(verb: Verb): void {
    this.error = null;
    if (isMutating(verb)) this.confirming = verb;
    else void this.run(verb);
  }

  cancel(): void {
    this.confirming = null;
  }

  async confirm(): Promise<void> {
    const verb = this.confirming;
    if (verb) await this.run(verb);
  }

  private async run(verb: Verb): Promise<void> {
    if (this.running) return;
    this.confirming = null;
    this.running = verb;
    this.error = null;
    try {
      this.result = await this.api.json<VerbResult>(`/api/vm/${verb}`, {
        method: "POST",
        body: JSON.stringify(isMutating(verb) ? { confirm: verb } : {}),
      });
    } catch (err) {
      if (!(err instanceof AuthRequired)) this.error = messageOf(err);
    } finally {
      this.running = null;
      void this.load();
    }
  }
}
