import { describe, expect, it } from "vitest";
import { envOf, mountsOf, podmanRunArgs, podTemplate } from "./pod.mjs";

const pod = {
  securityContext: { fsGroup: 10001 },
  containers: [
    {
      name: "svc",
      image: "claude-gateway/svc",
      envFrom: [{ configMapRef: { name: "config" } }, { secretRef: { name: "extra", optional: true } }],
      env: [
        { name: "PORT", value: "8080" },
        { name: "LOG_LEVEL", value: "debug" },
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "oauth", key: "token", optional: true } } },
        { name: "MODEL", valueFrom: { configMapKeyRef: { name: "config", key: "DEFAULT_MODEL" } } },
      ],
      securityContext: {
        runAsUser: 10001,
        runAsGroup: 10001,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
      volumeMounts: [
        { name: "tmp", mountPath: "/tmp" },
        { name: "auth", mountPath: "/etc/auth", readOnly: true },
        { name: "policy", mountPath: "/etc/policy" },
      ],
    },
    {
      name: "helper",
      image: "claude-gateway/svc",
      args: ["node", "dist/helper.js"],
      securityContext: { runAsUser: 0, capabilities: { drop: ["ALL"], add: ["SETUID", "KILL"] } },
      volumeMounts: [{ name: "tmp", mountPath: "/scratch" }],
    },
  ],
  volumes: [
    { name: "tmp", emptyDir: {} },
    { name: "auth", secret: { secretName: "auth", optional: true } },
    { name: "policy", configMap: { name: "policy" } },
  ],
};
const configMaps = { config: { LOG_LEVEL: "info", DEFAULT_MODEL: "claude-sonnet-4-6" } };
const hostDirs = { tmp: "/h/tmp", auth: "/h/auth", policy: "/h/policy" };

describe("podTemplate", () => {
  const deployment = { kind: "Deployment", metadata: { name: "a" }, spec: { template: { spec: pod } } };
  const cronJob = {
    kind: "CronJob",
    metadata: { name: "b" },
    spec: { jobTemplate: { spec: { template: { spec: pod } } } },
  };
  it("finds a Deployment's and a CronJob's pod spec by name", () => {
    expect(podTemplate([deployment, cronJob], "Deployment", "a")).toBe(pod);
    expect(podTemplate([deployment, cronJob], "CronJob", "b")).toBe(pod);
  });
  it("says which workload is missing", () => {
    expect(() => podTemplate([deployment], "Deployment", "b")).toThrow("no Deployment/b");
  });
});

describe("envOf", () => {
  it("is envFrom first, then env (which wins); missing optional references are left out", () => {
    expect(envOf(pod.containers[0], { configMaps })).toEqual({
      LOG_LEVEL: "debug",
      DEFAULT_MODEL: "claude-sonnet-4-6",
      PORT: "8080",
      MODEL: "claude-sonnet-4-6",
    });
  });
  it("takes secret references from the secrets given", () => {
    const env = envOf(pod.containers[0], {
      configMaps,
      secrets: { oauth: { token: "t" }, extra: { X: "1" } },
    });
    expect(env).toMatchObject({ TOKEN: "t", X: "1" });
  });
  it("refuses a missing required ConfigMap, key or an unmapped source", () => {
    expect(() => envOf(pod.containers[0], {})).toThrow("ConfigMap config is not provided");
    expect(() => envOf(pod.containers[0], { configMaps: { config: {} } })).toThrow(
      "config has no key DEFAULT_MODEL",
    );
    const fieldRef = {
      name: "c",
      env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    };
    expect(() => envOf(fieldRef)).toThrow("POD comes from a source this test does not map");
  });
});

describe("mountsOf", () => {
  it("says what backs each mount", () => {
    expect(mountsOf(pod, pod.containers[0])).toEqual([
      { volume: "tmp", path: "/tmp", readOnly: false, kind: "emptyDir" },
      { volume: "auth", path: "/etc/auth", readOnly: true, kind: "secret", name: "auth", optional: true },
      {
        volume: "policy",
        path: "/etc/policy",
        readOnly: false,
        kind: "configMap",
        name: "policy",
        optional: false,
      },
    ]);
  });
  it("refuses a mount of no volume and a volume kind it does not map", () => {
    expect(() => mountsOf({ volumes: [] }, pod.containers[1])).toThrow(
      "helper mounts tmp, which is no volume",
    );
    const hostPath = { volumes: [{ name: "tmp", hostPath: { path: "/" } }] };
    expect(() => mountsOf(hostPath, pod.containers[1])).toThrow("only emptyDir, secret and configMap");
  });
});

describe("podmanRunArgs", () => {
  it("runs a container as the manifest does: user, fsGroup, read-only root without podman's tmpfs, no privileges", () => {
    const args = podmanRunArgs(pod, "svc", {
      name: "t-svc",
      image: "localhost/claude-gateway/svc:dev",
      hostDirs,
      configMaps,
      overrides: { PORT: "4321" },
    });
    expect(args).toEqual([
      "--name=t-svc",
      "--network=host",
      "--user=10001:10001",
      "--group-add=10001",
      "--read-only",
      "--read-only-tmpfs=false",
      "--security-opt=no-new-privileges",
      "--cap-drop=all",
      "--volume=/h/tmp:/tmp",
      "--volume=/h/auth:/etc/auth:ro",
      // A ConfigMap or Secret volume is read-only in a pod whatever the mount says.
      "--volume=/h/policy:/etc/policy:ro",
      "--env=LOG_LEVEL=debug",
      "--env=DEFAULT_MODEL=claude-sonnet-4-6",
      "--env=PORT=4321",
      "--env=MODEL=claude-sonnet-4-6",
      "localhost/claude-gateway/svc:dev",
    ]);
  });
  it("keeps the image's entrypoint (the init) and passes args; adds only the capabilities listed", () => {
    const args = podmanRunArgs(pod, "helper", { name: "t-h", image: "img", hostDirs, network: "none" });
    expect(args).toEqual([
      "--name=t-h",
      "--network=none",
      "--user=0:0",
      "--group-add=10001",
      "--cap-drop=all",
      "--cap-add=setuid",
      "--cap-add=kill",
      "--volume=/h/tmp:/scratch",
      "img",
      "node",
      "dist/helper.js",
    ]);
  });
  it("replaces the entrypoint only for a container with its own command", () => {
    const withCommand = { containers: [{ name: "c", command: ["sh", "-c", "true"] }] };
    expect(podmanRunArgs(withCommand, "c", { name: "n", image: "img", hostDirs: {} })).toEqual([
      "--name=n",
      "--network=host",
      '--entrypoint=["sh","-c","true"]',
      "img",
    ]);
  });
  it("refuses an unknown container and a volume without a host directory", () => {
    expect(() => podmanRunArgs(pod, "nope", { name: "n", image: "i", hostDirs })).toThrow(
      "no container nope",
    );
    expect(() => podmanRunArgs(pod, "helper", { name: "n", image: "i", hostDirs: {} })).toThrow(
      "no host directory for volume tmp",
    );
  });
});
