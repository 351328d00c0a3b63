import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Breakglass holds the most dangerous key in the system, so it shares no code with the other
 * services: only the workspace's `packages/*`.
 */

const PKG = fileURLToPath(new URL("..", import.meta.url));
const ROOT = resolve(PKG, "..", "..");
const pkg = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return name === "node_modules" || name === "testdata" ? [] : files(path);
    return /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

const serviceNames = readdirSync(join(ROOT, "services"))
  .filter((s) => s !== "breakglass")
  .flatMap((s) => {
    try {
      return [
        (JSON.parse(readFileSync(join(ROOT, "services", s, "package.json"), "utf8")) as { name: string })
          .name,
      ];
    } catch {
      return [];
    }
  });

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

describe("isolation", () => {
  it("depends on no other service, only shared packages", () => {
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    expect(serviceNames.length).toBeGreaterThan(0);
    for (const name of serviceNames) expect(deps).not.toContain(name);
    expect(deps.filter((d) => d.startsWith("@claude-gateway/")).sort()).toEqual([
      "@claude-gateway/agents",
      "@claude-gateway/auth",
      "@claude-gateway/claude",
      "@claude-gateway/service-kit",
      "@claude-gateway/testkit",
    ]);
    for (const d of deps.filter((d) => d.startsWith("@claude-gateway/"))) {
      expect(readFileSync(join(ROOT, "packages", d.split("/")[1]!, "package.json"), "utf8")).toContain(
        `"${d}"`,
      );
    }
  });

  it("imports only its own files, node built-ins and its declared dependencies", () => {
    const deps = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }));
    const sources = ["src", "test", "ui/src"].flatMap((d) => files(join(PKG, d)));
    expect(sources.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const file of sources) {
      for (const [, spec] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
        if (!spec) continue;
        const where = `${relative(PKG, file)}: ${spec}`;
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          if (relative(PKG, target).startsWith("..")) problems.push(`${where} leaves the package`);
        } else if (!spec.startsWith("node:")) {
          const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
          if (!deps.has(name)) problems.push(`${where} is not a declared dependency`);
        }
        if (serviceNames.some((n) => spec.startsWith(n)) || /services\//.test(spec))
          problems.push(`${where} names a service`);
      }
    }
    expect(problems).toEqual([]);
  });
});
