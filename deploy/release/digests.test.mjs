import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  DIGEST,
  digestFileOf,
  PLACEHOLDER_DIGEST,
  parseDigestFile,
  pinImages,
  ReleaseError,
  registryProblem,
  unpinnedProblem,
} from "./digests.mjs";

const d = (c) => `sha256:${c.repeat(64)}`;
const REGISTRY = "registry.example.internal:5000/claude-gateway";

const KUSTOMIZATION = `resources:
  - ../../base
# Pinned by the release step.
images:
  - name: claude-gateway/executor
    newName: registry.example.internal/claude-gateway/executor
    newTag: "0.1.0"
  - name: claude-gateway/breakglass # the console
    newName: registry.example.internal/claude-gateway/breakglass
    digest: ${PLACEHOLDER_DIGEST}
  - name: nats
    newTag: 2.10.27-alpine
    digest: ${PLACEHOLDER_DIGEST}
`;

const digests = (entries) => new Map(Object.entries(entries));
/** The problems of the ReleaseError `fn` throws. */
function problemsOf(fn) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReleaseError);
    return err.problems;
  }
  throw new Error("expected a ReleaseError");
}

describe("parseDigestFile", () => {
  it("takes what podman push --digestfile writes, with or without a newline", () => {
    expect(parseDigestFile(`${d("a")}\n`, "executor.digest")).toBe(d("a"));
    expect(parseDigestFile(d("0"), "nats.digest")).toBe(d("0"));
  });

  it("refuses anything that is not a sha256 digest", () => {
    for (const text of ["", "sha256:abc", `${d("a")}0`, d("A"), `sha512:${"a".repeat(128)}`, `x${d("a")}`])
      expect(problemsOf(() => parseDigestFile(text, "f.digest"))).toEqual([
        "f.digest: not a digest (sha256:<64 lowercase hex>)",
      ]);
  });
});

describe("digestFileOf", () => {
  it("names ours by service and others by their last segment", () => {
    expect(digestFileOf("claude-gateway/openai-gateway")).toBe("openai-gateway.digest");
    expect(digestFileOf("nats")).toBe("nats.digest");
    expect(digestFileOf("docker.io/library/nats")).toBe("nats.digest");
  });
});

describe("registryProblem", () => {
  it("accepts a host, a port and a path", () => {
    for (const r of [
      "registry.example.internal/claude-gateway",
      REGISTRY,
      "ghcr.io/acme/cg",
      "localhost:5000",
    ])
      expect(registryProblem(r)).toBeUndefined();
  });

  it("refuses a scheme, a tag, a trailing slash or capitals", () => {
    for (const r of ["https://reg.example/cg", "reg.example/cg:1.0", "reg.example/cg/", "Reg.example/cg", ""])
      expect(registryProblem(r)).toMatch(/want host\[:port\]\/path/);
  });
});

describe("unpinnedProblem", () => {
  it("passes a reference by digest, with or without a tag", () => {
    expect(unpinnedProblem(`reg/x/executor@${d("1")}`)).toBeUndefined();
    expect(unpinnedProblem(`nats:2.10.27-alpine@${d("2")}`)).toBeUndefined();
  });

  it("fails a reference by tag or with a malformed digest", () => {
    expect(unpinnedProblem("nats:2.10.27-alpine")).toMatch(/^by tag/);
    expect(unpinnedProblem("reg/x/executor")).toMatch(/^by tag/);
    expect(unpinnedProblem("reg/x/executor@sha256:abc")).toMatch(/is not sha256/);
  });
});

describe("pinImages", () => {
  const all = { "executor.digest": d("1"), "breakglass.digest": d("2"), "nats.digest": d("3") };

  it("points ours at the registry by digest, drops their tags and pins nats beside its tag", () => {
    const { text, pinned } = pinImages(KUSTOMIZATION, { registry: REGISTRY, digests: digests(all) });
    expect(parse(text).images).toEqual([
      { name: "claude-gateway/executor", newName: `${REGISTRY}/executor`, digest: d("1") },
      { name: "claude-gateway/breakglass", newName: `${REGISTRY}/breakglass`, digest: d("2") },
      { name: "nats", newTag: "2.10.27-alpine", digest: d("3") },
    ]);
    expect(pinned).toEqual([
      { name: "claude-gateway/executor", ref: `${REGISTRY}/executor@${d("1")}` },
      { name: "claude-gateway/breakglass", ref: `${REGISTRY}/breakglass@${d("2")}` },
      { name: "nats", ref: `nats:2.10.27-alpine@${d("3")}` },
    ]);
    expect(text).toMatch(/^# Pinned by the release step\.$/m);
    expect(text).toMatch(/name: claude-gateway\/breakglass # the console/);
    for (const { ref } of pinned) expect(unpinnedProblem(ref)).toBeUndefined();
  });

  it("keeps nats' digest when no file moves it, but never the placeholder", () => {
    const first = pinImages(KUSTOMIZATION, { registry: REGISTRY, digests: digests(all) }).text;
    const { "nats.digest": _, ...ours } = all;
    const again = pinImages(first, { registry: REGISTRY, digests: digests(ours) });
    expect(parse(again.text).images[2].digest).toBe(d("3"));
    expect(
      problemsOf(() => pinImages(KUSTOMIZATION, { registry: REGISTRY, digests: digests(ours) })),
    ).toEqual(["nats: no nats.digest, and its digest in the overlay is the placeholder"]);
  });

  it("is the same file when pinned twice to the same digests", () => {
    const opts = { registry: REGISTRY, digests: digests(all) };
    const once = pinImages(KUSTOMIZATION, opts).text;
    expect(pinImages(once, opts).text).toBe(once);
  });

  it("refuses a release that misses one of ours, names an unknown image or a bad registry", () => {
    const { "executor.digest": _, ...rest } = all;
    const release = {
      registry: "https://registry.example.internal/cg",
      digests: digests({ ...rest, "exector.digest": d("4") }),
    };
    expect(problemsOf(() => pinImages(KUSTOMIZATION, release))).toEqual([
      '--registry "https://registry.example.internal/cg": want host[:port]/path, lowercase, without scheme, tag or trailing slash',
      "claude-gateway/executor: no executor.digest (every one of our images moves with the release)",
      "exector.digest: names no image of the overlay",
    ]);
  });

  it("pins every image of the committed prod overlay, and changes nothing else", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const text = readFileSync(join(here, "..", "overlays", "prod", "kustomization.yaml"), "utf8");
    const files = parse(text).images.map((i) => digestFileOf(i.name));
    const release = new Map(files.map((f, i) => [f, d("123456789abcdef"[i % 15])]));
    const { text: out } = pinImages(text, { registry: REGISTRY, digests: release });
    for (const image of parse(out).images) {
      expect(image.digest).toMatch(DIGEST);
      expect(image.digest).not.toBe(PLACEHOLDER_DIGEST);
      if (image.name.startsWith("claude-gateway/")) expect(image).not.toHaveProperty("newTag");
    }
    const beforeImages = (t) => t.slice(0, t.indexOf("\nimages:"));
    expect(beforeImages(out)).toBe(beforeImages(text));
  });
});
