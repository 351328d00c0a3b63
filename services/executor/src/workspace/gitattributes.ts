/**
 * Whether a `.gitattributes` file puts any path (or an `[attr]` macro) under git-crypt's filter.
 * A line is `<pattern> <attr>…`; the pattern may be double-quoted and contain spaces.
 */
export function declaresGitCrypt(gitattributes: string): boolean {
  for (const raw of gitattributes.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (attributesOf(line).includes("filter=git-crypt")) return true;
  }
  return false;
}

function attributesOf(line: string): string[] {
  let rest: string;
  if (line.startsWith('"')) {
    // Skip the quoted pattern, honouring backslash escapes inside it.
    let i = 1;
    while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
    rest = line.slice(i + 1);
  } else {
    rest = line.replace(/^\S+/, "");
  }
  return rest.split(/\s+/).filter((a) => a !== "");
}
