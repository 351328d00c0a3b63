import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics: HTTP latency, completions by model and outcome, time to the first token. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency (for streams: until the response starts)",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  const completions = new Counter({
    name: "openai_gateway_completions_total",
    help: "Chat completions by model, mode and outcome (succeeded, a job status or reason, client_closed, an error code)",
    labelNames: ["model", "stream", "outcome"],
    registers: [registry],
  });
  const firstContent = new Histogram({
    name: "openai_gateway_first_content_seconds",
    help: "Streams: from request to the first content chunk",
    labelNames: ["model"],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    completed(model: string, stream: boolean, outcome: string) {
      completions.inc({ model, stream: String(stream), outcome });
    },
    firstContent(model: string, seconds: number) {
      firstContent.observe({ model }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
