// The pure part of the release step (deploy/release-digests.mjs): pinning the prod overlay's images
// to the digests of what was pushed. check-manifests.mjs reads the same rules back.
import { parseDocument } from "yaml";

/** A content digest as registries and kustomize write it. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** What the prod overlay holds before its first release: well-formed, and no image has it. */
export const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;
/** Our images' names in the manifests (claude-gateway/<service>), which a release moves together. */
const OWN_IMAGE = /^claude-gateway\/([a-z0-9][a-z0-9-]*)$/;
/** A registry and path: host[:port][/path…], lowercase, with no scheme, tag or trailing slash. */
const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;

/** Every problem of a release that must not be written, at once. */
export class ReleaseError extends Error {
  constructor(problems) {
    super(problems.join("\n"));
    this.name = "ReleaseError";
    this.problems = problems;
  }
}

/** The digest a `podman push --digestfile` file holds (surrounding whitespace dropped). */
export function parseDigestFile(text, file) {
  const digest = text.trim();
  if (!DIGEST.test(digest)) throw new ReleaseError([`${file}: not a digest (sha256:<64 lowercase hex>)`]);
  return digest;
}

/** The digest file of an image: `<service>.digest` for ours, else its name's last segment (`nats.digest`). */
export function digestFileOf(imageName) {
  const own = OWN_IMAGE.exec(imageName);
  return `${own ? own[1] : imageName.split("/").at(-1)}.digest`;
}

/** Why `registry` cannot prefix our images' names, if it cannot. */
export function registryProblem(registry) {
  if (REGISTRY.test(registry)) return undefined;
  return `--registry ${JSON.stringify(registry)}: want host[:port]/path, lowercase, without scheme, tag or trailing slash`;
}

/** Why a rendered image reference is not pinned by a well-formed digest, if it is not. */
export function unpinnedProblem(image) {
  const at = image.lastIndexOf("@");
  if (at < 0) return "by tag: a prod image is referenced by digest (deploy/README.md, Releasing to prod)";
  const digest = image.slice(at + 1);
  if (!DIGEST.test(digest)) return `digest ${digest} is not sha256:<64 lowercase hex>`;
  return undefined;
}

/**
 * The overlay's kustomization.yaml with every `images:` entry pinned, comments and order kept.
 * Each of ours (claude-gateway/<service>) needs its `<service>.digest` and becomes
 * `newName: <registry>/<service>` plus that digest, its tag dropped. Another image (nats) keeps its
 * name and tag and takes the digest of its file when one is given; without one it keeps its digest,
 * unless that is the placeholder. A digest file that names no entry is refused (a typo would
 * otherwise leave an image on its old digest).
 * @param {string} text the kustomization
 * @param {{ registry: string, digests: Map<string, string> }} opts digests by file name
 * @returns {{ text: string, pinned: { name: string, ref: string }[] }}
 */
export function pinImages(text, { registry, digests }) {
  const problems = [];
  const bad = registryProblem(registry);
  if (bad) problems.push(bad);
  const doc = parseDocument(text);
  if (doc.errors.length) throw new ReleaseError(doc.errors.map((e) => `kustomization.yaml: ${e.message}`));
  const images = doc.get("images");
  const entries = images?.items ?? [];
  if (entries.length === 0) problems.push("kustomization.yaml: no images: entries to pin");
  const used = new Set();
  const pinned = [];
  for (const entry of entries) {
    const name = entry.get?.("name");
    if (typeof name !== "string") {
      problems.push("kustomization.yaml: an images: entry without a name");
      continue;
    }
    const file = digestFileOf(name);
    const given = digests.get(file);
    if (given !== undefined) used.add(file);
    const own = OWN_IMAGE.exec(name);
    if (own) {
      if (given === undefined) {
        problems.push(`${name}: no ${file} (every one of our images moves with the release)`);
        continue;
      }
      entry.set("newName", `${registry}/${own[1]}`);
      entry.delete("newTag");
      entry.set("digest", given);
      pinned.push({ name, ref: `${registry}/${own[1]}@${given}` });
      continue;
    }
    const digest = given ?? entry.get("digest");
    if (typeof digest !== "string" || !DIGEST.test(digest) || digest === PLACEHOLDER_DIGEST) {
      problems.push(
        `${name}: no ${file}, and its digest in the overlay is ${digest ? "the placeholder" : "missing"}`,
      );
      continue;
    }
    entry.set("digest", digest);
    const tag = entry.get("newTag");
    pinned.push({ name, ref: `${entry.get("newName") ?? name}${tag ? `:${tag}` : ""}@${digest}` });
  }
  for (const file of digests.keys())
    if (!used.has(file)) problems.push(`${file}: names no image of the overlay`);
  if (problems.length) throw new ReleaseError(problems);
  return { text: doc.toString({ lineWidth: 0 }), pinned };
}
