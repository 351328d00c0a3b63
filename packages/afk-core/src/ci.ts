import type { Check, CiSummary } from "./types.js";

/**
 * Folds the commit's checks into one CI verdict and one deploy verdict. CI is every check except the
 * deploy check: any failure fails it, else any pending keeps it pending, else it is green.
 */
export function summariseChecks(checks: readonly Check[], deployContext: string | null): CiSummary {
  const deploy = deployContext ? checks.filter((c) => c.name === deployContext) : [];
  const ci = checks.filter((c) => c.name !== deployContext);
  const failures = ci.filter((c) => c.state === "failure");
  return {
    ci: verdict(ci) ?? "none",
    deploy: deployContext ? (verdict(deploy) ?? "absent") : "not-configured",
    failures,
  };
}

function verdict(checks: readonly Check[]): "pending" | "success" | "failure" | null {
  if (checks.length === 0) return null;
  if (checks.some((c) => c.state === "failure")) return "failure";
  if (checks.some((c) => c.state === "pending")) return "pending";
  return "success";
}
