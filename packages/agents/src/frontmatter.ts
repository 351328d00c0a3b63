import { parseDocument } from "yaml";

export interface Frontmatter {
  /** The parsed YAML mapping; absent when there are problems. */
  data?: Record<string, unknown>;
  /** Everything after the closing `---`; absent when the block could not be found. */
  body?: string;
  problems: string[];
}

/**
 * Splits `---\n<yaml>\n---\n<body>` and parses the YAML. Problems carry file line numbers, so the
 * author can jump to them. Duplicate keys are an error (the `yaml` default), not last-one-wins.
 */
export function readFrontmatter(text: string): Frontmatter {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines[0]?.trimEnd() !== "---") {
    return { problems: ["must start with a YAML frontmatter block ('---' on line 1)"] };
  }
  const close = lines.findIndex((line, i) => i > 0 && line.trimEnd() === "---");
  if (close === -1) return { problems: ["the frontmatter block is not closed by a '---' line"] };
  const yaml = lines.slice(1, close).join("\n");
  const body = lines.slice(close + 1).join("\n");

  const doc = parseDocument(yaml, { prettyErrors: false });
  if (doc.errors.length > 0) {
    // +2: the opening '---' line, and 1-based numbering.
    return { body, problems: doc.errors.map((e) => `YAML line ${lineOf(yaml, e.pos[0]) + 2}: ${e.message}`) };
  }
  // An empty block is an empty mapping, so the schema reports each missing key by name.
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== "object" || Array.isArray(data)) {
    return { body, problems: ["the frontmatter must be a YAML mapping (key: value lines)"] };
  }
  return { data: data as Record<string, unknown>, body, problems: [] };
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length - 1;
}
