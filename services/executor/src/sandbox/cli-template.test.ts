import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { resolveClaudeBin } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { makeCliTemplate } from "./cli-template.js";

const logger = { info: () => {}, warn: () => {} };

describe("makeCliTemplate", () => {
  it("keeps the real CLI's first-run state, made without any API call", async () => {
    const template = await makeCliTemplate(resolveClaudeBin(), logger);
    expect(template).toBeDefined();
    try {
      expect(template!.entries).toContain(".claude.json");
      const state = JSON.parse(readFileSync(join(template!.dir, ".claude.json"), "utf8")) as Record<
        string,
        unknown
      >;
      expect(state).toHaveProperty("migrationVersion");
      // Only what the CLI itself wrote: no servers, no projects, no settings.
      expect(state).not.toHaveProperty("mcpServers");
      expect(template!.entries).not.toContain("settings.json");
    } finally {
      rmSync(dirname(template!.dir), { recursive: true, force: true });
    }
  });

  it("is undefined without a CLI, or when it writes nothing", async () => {
    expect(await makeCliTemplate(undefined, logger)).toBeUndefined();
    expect(await makeCliTemplate("/bin/true", logger)).toBeUndefined();
  });
});
