import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@claude-gateway/service-kit";
import { describe, expect, it } from "vitest";
import { parsePolicy, watchPolicy } from "./load.js";

const problemsOf = (text: string): readonly string[] => {
  try {
    parsePolicy(text, "policy.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected problems");
};

describe("parsePolicy", () => {
  it("reads YAML and JSON alike", () => {
    const yaml = parsePolicy("callers:\n  ci: { agents: [general], maxConcurrent: 4 }\n", "p.yaml");
    const json = parsePolicy('{"callers":{"ci":{"agents":["general"],"maxConcurrent":4}}}', "p.json");
    expect(yaml.limitsFor("tok_ci")).toEqual(json.limitsFor("tok_ci"));
    expect(yaml.limitsFor("tok_ci").maxConcurrent).toBe(4);
  });

  it("an empty file is the built-in defaults", () => {
    expect(parsePolicy("", "p.yaml").limitsFor("tok_x").maxConcurrent).toBe(2);
  });

  it("lists every problem, with where it is", () => {
    const problems = problemsOf(
      [
        "defaults:",
        "  maxConcurrent: 0",
        "  agentz: [x]",
        "callers:",
        "  ci: { budgetUsdPerDay: -1, admin: yes-please }",
        "extra: 1",
      ].join("\n"),
    );
    expect(problems.join("\n")).toMatch(/defaults\.maxConcurrent/);
    expect(problems.join("\n")).toMatch(/agentz/);
    expect(problems.join("\n")).toMatch(/callers\.ci\.budgetUsdPerDay/);
    expect(problems.join("\n")).toMatch(/callers\.ci\.admin/);
    expect(problems.join("\n")).toMatch(/extra/);
    expect(problems.every((p) => p.startsWith("policy.yaml: "))).toBe(true);
  });

  it("refuses text that is not YAML", () => {
    expect(problemsOf("callers: [unclosed")[0]).toMatch(/not YAML or JSON/);
  });
});

describe("watchPolicy", () => {
  it("without a file: the built-in defaults", async () => {
    const source = await watchPolicy(undefined, { logger: { info() {}, error() {} } });
    expect(source.current().source).toBe("built-in");
  });

  it("re-reads a changed file; a bad change is refused and the last good policy stays", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cg-policy-"));
    const path = join(dir, "policy.yaml");
    const errors: unknown[] = [];
    let reloaded: (ok: boolean) => void = () => {};
    const next = () =>
      new Promise<boolean>((resolve) => {
        reloaded = resolve;
      });
    try {
      await writeFile(path, "callers:\n  ci: { maxConcurrent: 4 }\n");
      const source = await watchPolicy(path, {
        logger: { info() {}, error: (obj: object) => errors.push(obj) },
        intervalMs: 20,
        onReload: (ok) => reloaded(ok),
      });
      expect(source.current().limitsFor("tok_ci").maxConcurrent).toBe(4);

      let done = next();
      await writeFile(path, "callers:\n  ci: { maxConcurrent: 9 }\n");
      expect(await done).toBe(true);
      expect(source.current().limitsFor("tok_ci").maxConcurrent).toBe(9);

      done = next();
      await writeFile(path, "callers:\n  ci: { maxConcurrent: many }\n");
      expect(await done).toBe(false);
      expect(source.current().limitsFor("tok_ci").maxConcurrent).toBe(9);
      expect(JSON.stringify(errors)).toContain("callers.ci.maxConcurrent");
      source.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a bad file at start-up fails the start with its problems", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cg-policy-"));
    try {
      await writeFile(join(dir, "p.yaml"), "defaults: { requestsPerMinute: 0 }\n");
      await expect(watchPolicy(join(dir, "p.yaml"), { logger: { info() {}, error() {} } })).rejects.toThrow(
        /requestsPerMinute/,
      );
      await expect(
        watchPolicy(join(dir, "missing.yaml"), { logger: { info() {}, error() {} } }),
      ).rejects.toThrow(ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
