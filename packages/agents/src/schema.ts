import type { PermissionMode } from "@claude-gateway/claude";
import { z } from "zod";

/** Same shape as a job's `agent` field in the contracts, so every file name is a valid request. */
export const AGENT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const PERMISSION_MODES = [
  "default",
  "acceptEdits",
  "auto",
  "plan",
  "dontAsk",
  "bypassPermissions",
] as const satisfies readonly PermissionMode[];
// Fails to compile when the claude package gains a mode this list lacks.
type MissingMode = Exclude<PermissionMode, (typeof PERMISSION_MODES)[number]>;
const _everyModeListed: [MissingMode] extends [never] ? true : never = true;

// Built-in tools are PascalCase, MCP tools `mcp__<server>__<tool>`; a lowercase `bash` is a typo
// the CLI would silently ignore. Commas are excluded because `--tools` joins the list with them.
const TOOL_NAME = /^(?:[A-Z][A-Za-z0-9]*|mcp__[A-Za-z0-9_-]+)$/;
// A tool name, optionally with a rule in parentheses: `WebFetch`, `Bash(git:*)`.
const TOOL_PATTERN = /^(?:[A-Z][A-Za-z0-9]*|mcp__[A-Za-z0-9_-]+)(?:\(.+\))?$/;

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? "is required" : `must be ${what}`;

const ToolName = z.string().regex(TOOL_NAME, {
  error: (iss) => `'${iss.input}' is not a tool name (e.g. Bash, Read, mcp__server__tool)`,
});
const ToolPattern = z.string().regex(TOOL_PATTERN, {
  error: (iss) => `'${iss.input}' is not a tool pattern (e.g. WebFetch, Bash(git:*))`,
});

/** `tools` as a YAML list or as `Read, Grep` (the CLI's own agent format uses the string form). */
const Tools = z.preprocess(
  (value) =>
    typeof value === "string"
      ? value
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t.length > 0)
      : value,
  z.array(ToolName, { error: "must be a list of tool names or a comma-separated string" }),
);

const Permissions = z.strictObject(
  {
    profile: z.enum(["tools", "no-tools"], { error: required('"tools" or "no-tools"') }),
    mode: z.enum(PERMISSION_MODES).optional(),
    allow: z.array(ToolPattern).optional(),
    deny: z.array(ToolPattern).optional(),
    skipPermissions: z.boolean().optional(),
  },
  { error: required("a mapping with at least `profile`") },
);

/** The frontmatter of `agents/<name>.md`. Unknown keys are refused: a typo must not pass silently. */
export const AgentFrontmatter = z.strictObject({
  name: z.string({ error: required("a string") }).regex(AGENT_NAME, "must match [a-z0-9][a-z0-9-]* (≤ 64)"),
  description: z
    .string({ error: required("a string") })
    .trim()
    .min(1, "must not be empty"),
  tools: Tools.optional(),
  model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]*$/, "must be a model id such as claude-haiku-4-5")
    .optional(),
  permissions: Permissions,
});
export type AgentFrontmatter = z.infer<typeof AgentFrontmatter>;

/** Zod issues as `path: message` lines that name the key at fault. */
export function issueMessages(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const known = path === "" ? AgentFrontmatter.shape : path === "permissions" ? Permissions.shape : {};
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}` +
          ` (known: ${Object.keys(known).join(", ")})`
        : issue.message;
    return path === "" ? message : `${path}: ${message}`;
  });
}
