const PLACEHOLDER = /\{([^}]*)\}/g;
const KNOWN = new Set(["owner", "name", "repo"]);

/** Problems with a `T3_WORKSPACE_ROOT` template (empty when it is usable for these repositories). */
export function workspaceTemplateProblems(template: string, repos: readonly string[]): string[] {
  const problems: string[] = [];
  if (!template.startsWith("/")) problems.push("T3_WORKSPACE_ROOT must be an absolute path");
  const used = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  for (const name of used) {
    if (!KNOWN.has(name))
      problems.push(`T3_WORKSPACE_ROOT: unknown placeholder {${name}} (use {owner}, {name}, {repo})`);
  }
  if (repos.length > 1 && !used.includes("name") && !used.includes("repo")) {
    problems.push(
      "T3_WORKSPACE_ROOT must contain {name} or {repo} when several repositories are allowlisted",
    );
  }
  return problems;
}

/**
 * The checkout the agent runs in for a repository (on the T3 server's filesystem), normalised the way
 * the server compares workspace roots: no duplicate or trailing slashes.
 */
export function workspaceRootFor(template: string, repo: string): string {
  const [owner = "", name = ""] = repo.split("/");
  const filled = template.replace(PLACEHOLDER, (_, key: string) =>
    key === "owner" ? owner : key === "name" ? name : key === "repo" ? repo : `{${key}}`,
  );
  return normaliseRoot(filled);
}

export function normaliseRoot(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
