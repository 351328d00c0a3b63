import type { PlanWindowState } from "@claude-gateway/contracts";
import { Gauge, type Registry } from "prom-client";
import type { PlanView, PolicyGate, UsageView } from "./gate.js";

/**
 * Per caller the policy names (no one else's name becomes a label), gauges of its limits and use,
 * read from the shared counters at scrape time, so every replica shows the same numbers; and the
 * subscription plan's utilisation, from its shared record (empty until a CLI reports one: an
 * API-key login never does).
 */
export function registerPolicyMetrics(registry: Registry, gate: PolicyGate): void {
  let scrape: Promise<UsageView[]> | undefined;
  // One read of the counters per scrape, shared by the gauges.
  const views = () => {
    scrape ??= gate.usageOfAll().finally(() => {
      setTimeout(() => {
        scrape = undefined;
      }, 1_000).unref();
    });
    return scrape;
  };
  const gauge = (name: string, help: string, pick: (v: UsageView) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["caller"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const v of await views().catch(() => [])) {
          const label = gate.metricLabel(v.caller);
          if (label !== "other") this.set({ caller: label }, pick(v));
        }
      },
    });
  gauge(
    "caller_spend_usd_today",
    "What the caller's runs spent today (UTC), from total_cost_usd",
    (v) => v.spentUsdToday,
  );
  gauge("caller_budget_usd_per_day", "The caller's daily budget", (v) => v.budgetUsdPerDay);
  gauge("caller_in_flight", "The caller's jobs or turns running or waiting", (v) => v.inFlight);
  gauge("caller_max_concurrent", "The caller's in-flight limit", (v) => v.maxConcurrent);
  gauge(
    "caller_requests_this_minute",
    "Requests the caller started this minute",
    (v) => v.requestsThisMinute,
  );
  gauge("caller_requests_per_minute", "The caller's rate limit", (v) => v.requestsPerMinute);

  registerPlanMetrics(registry, () => gate.plan());
}

function registerPlanMetrics(registry: Registry, read: () => Promise<PlanView | undefined>): void {
  let scrape: Promise<PlanView | undefined> | undefined;
  const view = () => {
    scrape ??= read()
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => {
          scrape = undefined;
        }, 1_000).unref();
      });
    return scrape;
  };
  const perWindow = (name: string, help: string, pick: (w: PlanWindowState) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ["window"],
      registers: [registry],
      async collect() {
        this.reset();
        const windows: Record<string, PlanWindowState> = (await view())?.state?.windows ?? {};
        for (const [window, w] of Object.entries(windows)) {
          const value = pick(w);
          if (value !== undefined) this.set({ window }, value);
        }
      },
    });
  perWindow(
    "claude_plan_utilization",
    "The subscription plan's use of each usage window, 0..1 (1 = at its limit), as the CLI last reported it",
    (w) => w.utilization,
  );
  perWindow(
    "claude_plan_resets_at_seconds",
    "When each usage window of the subscription plan resets, unix seconds",
    (w) => w.resetsAt,
  );
  new Gauge({
    name: "claude_plan_limited",
    help: "1 while the subscription plan is at its usage limit and requests are refused, else 0",
    registers: [registry],
    async collect() {
      this.set((await view())?.atLimit ? 1 : 0);
    },
  });
}
