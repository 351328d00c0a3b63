import { Gauge, type Registry } from "prom-client";
import type { PolicyGate, UsageView } from "./gate.js";

/**
 * Per caller the policy names (no one else's name becomes a label), gauges of its limits and use,
 * read from the shared counters at scrape time, so every replica shows the same numbers.
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
}
