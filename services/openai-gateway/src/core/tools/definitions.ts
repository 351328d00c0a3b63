import {
  CLIENT_TOOL_NAME,
  type ClientToolDef,
  MAX_CLIENT_TOOL_DESCRIPTION,
  MAX_CLIENT_TOOL_NAME,
  MAX_CLIENT_TOOLS,
} from "@claude-gateway/contracts";
import { InvalidRequestError } from "../errors.js";
import { checkJsonSchema, type JsonSchema } from "../structured.js";

/**
 * The caller's tool definitions (client tool calling) as the job takes them. Each API parses its
 * own shape of a tool; what the CLI needs of every tool is checked here, once, with 400s the API
 * words in its own way.
 */

export type Path = readonly (string | number)[];

/** One tool as an API defines it, and where its fields are in the request. */
export interface ToolDefinition {
  name: string;
  description?: string | null | undefined;
  /** The JSON schema of the arguments; absent or null: the tool takes none. */
  parameters?: unknown;
  strict?: boolean | null | undefined;
  at: { name: Path; description: Path; parameters: Path; strict: Path };
}

/** How one API spells a field's path and words a 400. */
export interface ToolRefusals {
  param(path: Path): string;
  error(path: Path, message: string, code: string): InvalidRequestError;
}

/** Why tool settings the CLI cannot honour are refused, in the words all three APIs use. */
export const WHY = {
  forcedCall: "the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'",
  parallelCalls: "the model may call several tools at once, and that cannot be turned off",
  withFormat: "a request either offers tools or asks for a structured answer, not both",
} as const;

/**
 * The tools as the job offers them; throws the API's 400 naming the first that the CLI cannot
 * offer: a name it cannot carry, a name given twice, `strict: true`, a schema that is not one of
 * an object, too many or too large.
 */
export function clientToolsOf(
  tools: readonly ToolDefinition[],
  listPath: Path,
  api: ToolRefusals,
): ClientToolDef[] {
  if (tools.length > MAX_CLIENT_TOOLS) {
    throw api.error(
      listPath,
      `${tools.length} tools are offered; at most ${MAX_CLIENT_TOOLS} are supported.`,
      "invalid_value",
    );
  }
  const seen = new Map<string, Path>();
  return tools.map((tool) => {
    const { name, at } = tool;
    if (!CLIENT_TOOL_NAME.test(name)) {
      throw api.error(
        at.name,
        `'${name.slice(0, 64)}' is not a usable tool name: a name is 1 to ${MAX_CLIENT_TOOL_NAME} letters, ` +
          `digits, '_' and '-' (the agent is offered each tool as 'mcp__client__<name>', and a tool's ` +
          "name is at most 64 characters).",
        "invalid_value",
      );
    }
    const first = seen.get(name);
    if (first) {
      throw api.error(
        at.name,
        `'${name}' is also the name of ${api.param(first)}: each tool needs a name of its own.`,
        "invalid_value",
      );
    }
    seen.set(name, at.name);
    if (tool.strict === true) {
      throw api.error(
        at.strict,
        "strict: true is not supported: the agent cannot guarantee arguments that match the schema " +
          "exactly. Send strict: false and check the arguments.",
        "unsupported_parameter",
      );
    }
    const description = tool.description ?? undefined;
    if (description !== undefined && description.length > MAX_CLIENT_TOOL_DESCRIPTION) {
      throw api.error(
        at.description,
        `the description is ${description.length} characters; at most ${MAX_CLIENT_TOOL_DESCRIPTION} are supported.`,
        "invalid_value",
      );
    }
    return {
      name,
      ...(description !== undefined ? { description } : {}),
      inputSchema: inputSchemaOf(tool.parameters, api.param(at.parameters)),
    };
  });
}

/**
 * A tool's arguments are one JSON object: a schema without a `type` describes one, and no schema at
 * all is one without properties. Checked as structured output's schemas are (a 400 naming `param`).
 */
function inputSchemaOf(raw: unknown, param: string): JsonSchema {
  if (raw == null) return { type: "object", properties: {} };
  const type = (raw as { type?: unknown }).type;
  if (type !== undefined && type !== "object" && typeof raw === "object" && !Array.isArray(raw)) {
    throw new InvalidRequestError(
      `Invalid JSON schema in '${param}': a tool's arguments are one JSON object, so its top level must be \`"type": "object"\`.`,
      param,
      "invalid_json_schema",
    );
  }
  const typed =
    typeof raw === "object" && !Array.isArray(raw) && (raw as JsonSchema).type === undefined
      ? { type: "object", ...(raw as JsonSchema) }
      : raw;
  return checkJsonSchema(typed, param);
}
