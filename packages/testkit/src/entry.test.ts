import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Benchmarks and scripts load the test kit outside vitest: its main entry must not import vitest
// (only `@claude-gateway/testkit/vitest` may).
describe("the main entry", () => {
  it("loads in a plain node process", () => {
    const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.startMessagesStub);`,
      ],
      { encoding: "utf8" },
    );
    expect(out.trim()).toBe("function");
  });
});
