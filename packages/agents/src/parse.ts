import { basename } from "node:path";
import { AgentFileError } from "./errors.js";
import { readFrontmatter } from "./frontmatter.js";
import { permissionsOf } from "./profile.js";
import { AgentFrontmatter, issueMessages } from "./schema.js";
import type { AgentSpec } from "./spec.js";

/**
 * Parses and validates one agent file (`<name>.md`: YAML frontmatter, then the system prompt).
 * Pure: `fileName` (a path or a base name) is used for the name check and in messages. Throws one
 * `AgentFileError` listing every problem found.
 */
export function parseAgentFile(fileName: string, text: string): AgentSpec {
  const base = basename(fileName);
  const expectedName = base.replace(/\.md$/, "");
  const front = readFrontmatter(text);
  const problems = [...front.problems];
  if (!base.endsWith(".md")) problems.unshift("an agent file's name must end in .md");

  let spec: AgentSpec | undefined;
  if (front.data) {
    const { name } = front.data;
    if (typeof name === "string" && name !== expectedName) {
      problems.push(`name: '${name}' must equal the file's base name '${expectedName}'`);
    }
    const parsed = AgentFrontmatter.safeParse(front.data);
    if (parsed.success) {
      const fm = parsed.data;
      const permissions = permissionsOf(fm, problems);
      spec = {
        name: fm.name,
        description: fm.description,
        tools: permissions.profile === "no-tools" ? [] : fm.tools,
        ...(fm.model ? { model: fm.model } : {}),
        permissions,
        prompt: (front.body ?? "").trim(),
        file: fileName,
      };
    } else {
      problems.push(...issueMessages(parsed.error));
    }
  }
  if (front.body !== undefined && front.body.trim() === "") {
    problems.push("the body (the agent's system prompt, after the closing '---') is empty");
  }

  if (problems.length > 0 || spec === undefined) {
    throw new AgentFileError(problems.map((message) => ({ file: fileName, message })));
  }
  return spec;
}
