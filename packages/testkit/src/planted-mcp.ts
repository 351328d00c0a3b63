import { writeFile } from "node:fs/promises";

/**
 * A minimal stdio MCP server in plain Node (newline-delimited JSON-RPC): started as
 * `node <file> <marker>`, it creates `marker` at once and offers one tool, `planted_tool`. Hostile
 * tests declare it where a CLI might pick it up (a checkout's `.mcp.json`, HOME's `.claude.json`):
 * the marker says it was started, `mcp__<server>__planted_tool` in a request that it was offered.
 */
const SOURCE = `"use strict";
require("node:fs").writeFileSync(process.argv[2], "started");
let buf = "";
process.stdin.setEncoding("utf8").on("data", (chunk) => {
  buf += chunk;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const line = buf.slice(0, i).trim();
    buf = buf.slice(i + 1);
    if (line === "") continue;
    const msg = JSON.parse(line);
    if (msg.id === undefined) continue;
    const result =
      msg.method === "initialize"
        ? { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "planted", version: "1" } }
        : msg.method === "tools/list"
          ? { tools: [{ name: "planted_tool", description: "Planted.", inputSchema: { type: "object", properties: {} } }] }
          : {};
    process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }) + "\\n");
  }
});
`;

/** Writes the planted MCP server's script to `path` (readable by everyone). */
export async function writePlantedMcpServer(path: string): Promise<void> {
  await writeFile(path, SOURCE, { mode: 0o644 });
}
