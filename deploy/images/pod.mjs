// The pure core of `pnpm images:test`: how the manifests run a pod, as `podman run` arguments, so
// each image boots the way the cluster would boot it. No I/O: the caller renders the manifests and
// makes the host directories that stand for the pod's volumes.

/** The pod template of a rendered workload (Deployment, StatefulSet, Job or CronJob) by name. */
export function podTemplate(docs, kind, name) {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`no ${kind}/${name} in the rendered manifests`);
  const template = kind === "CronJob" ? doc.spec.jobTemplate.spec.template : doc.spec.template;
  return template.spec;
}

/** The volumes a container mounts, each with what backs it: an emptyDir, a Secret or a ConfigMap. */
export function mountsOf(pod, container) {
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  return (container.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name);
    if (!v) throw new Error(`${container.name} mounts ${m.name}, which is no volume of the pod`);
    const source = v.emptyDir
      ? { kind: "emptyDir" }
      : v.secret
        ? { kind: "secret", name: v.secret.secretName, optional: v.secret.optional === true }
        : v.configMap
          ? { kind: "configMap", name: v.configMap.name, optional: v.configMap.optional === true }
          : undefined;
    if (!source) throw new Error(`${m.name}: only emptyDir, secret and configMap volumes are mapped`);
    return { volume: m.name, path: m.mountPath, readOnly: m.readOnly === true, ...source };
  });
}

/**
 * A container's environment as the kubelet would set it: `envFrom` ConfigMaps and Secrets, then
 * `env` values and references; a missing optional reference is left out. `configMaps` and
 * `secrets` map a name to its data (plain strings).
 */
export function envOf(container, { configMaps = {}, secrets = {} } = {}) {
  const env = {};
  const lookup = (store, kind, name, optional) => {
    const data = store[name];
    if (data === undefined && !optional)
      throw new Error(`${container.name}: ${kind} ${name} is not provided`);
    return data;
  };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const store = from.configMapRef ? configMaps : secrets;
    const data = lookup(store, from.configMapRef ? "ConfigMap" : "Secret", ref.name, ref.optional === true);
    for (const [k, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ""}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || e.valueFrom === undefined) {
      env[e.name] = e.value ?? "";
      continue;
    }
    const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
    if (!ref) throw new Error(`${container.name}: ${e.name} comes from a source this test does not map`);
    const isSecret = e.valueFrom.secretKeyRef !== undefined;
    const data = lookup(
      isSecret ? secrets : configMaps,
      isSecret ? "Secret" : "ConfigMap",
      ref.name,
      ref.optional === true,
    );
    const value = data?.[ref.key];
    if (value === undefined) {
      if (ref.optional === true) continue;
      throw new Error(`${container.name}: ${e.name}: ${ref.name} has no key ${ref.key}`);
    }
    env[e.name] = value;
  }
  return env;
}

/**
 * `podman run` arguments (after `run`) for one container of a pod: its user and groups, read-only
 * root, capabilities, no-new-privileges, its mounts (`hostDirs` maps each volume to the host
 * directory that stands for it), its environment (`overrides` last), its command and args.
 */
export function podmanRunArgs(pod, containerName, opts) {
  const container = (pod.containers ?? []).find((c) => c.name === containerName);
  if (!container) throw new Error(`the pod has no container ${containerName}`);
  const sc = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
  const args = [`--name=${opts.name}`, `--network=${opts.network ?? "host"}`];
  if (sc.runAsUser !== undefined) args.push(`--user=${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (pod.securityContext?.fsGroup !== undefined) args.push(`--group-add=${pod.securityContext.fsGroup}`);
  // The kubelet adds no tmpfs of its own: what is writable is what the pod mounts.
  if (sc.readOnlyRootFilesystem === true) args.push("--read-only", "--read-only-tmpfs=false");
  if (sc.allowPrivilegeEscalation === false) args.push("--security-opt=no-new-privileges");
  for (const cap of sc.capabilities?.drop ?? []) args.push(`--cap-drop=${cap.toLowerCase()}`);
  for (const cap of sc.capabilities?.add ?? []) args.push(`--cap-add=${cap.toLowerCase()}`);
  for (const m of mountsOf(pod, container)) {
    const dir = opts.hostDirs[m.volume];
    if (dir === undefined) throw new Error(`no host directory for volume ${m.volume}`);
    args.push(`--volume=${dir}:${m.path}${m.readOnly || m.kind !== "emptyDir" ? ":ro" : ""}`);
  }
  const env = { ...envOf(container, opts), ...(opts.overrides ?? {}) };
  for (const [k, v] of Object.entries(env)) args.push(`--env=${k}=${v}`);
  if (container.command) args.push(`--entrypoint=${JSON.stringify(container.command)}`);
  args.push(opts.image, ...(container.args ?? []));
  return args;
}
