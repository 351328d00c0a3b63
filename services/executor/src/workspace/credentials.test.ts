import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseRepoAllowlist } from "./allowlist.js";
import { childEnv } from "./commands.js";
import { WorkspaceError } from "./errors.js";
import { createWorkspaceManager } from "./manager.js";
import { baseDirName } from "./names.js";

// GIT_CREDENTIALS_FILE against a real git server: `git http-backend` behind node's https with basic
// auth, a throwaway certificate made with openssl.
const SECRET = "s3cret-token-0123456789";
const USER = "bot";

let dir: { dir: string; cleanup(): Promise<void> };
let upstream: TempRepo;
let server: Server;
let url: string;
let ca: string;
let gitEnv: Record<string, string | undefined>;
const seen = { authorized: 0, refused: 0 };

const at = (...parts: string[]) => join(dir.dir, ...parts);

/** A CGI request to `git http-backend`, its response streamed back (headers first, `Status:` honoured). */
function serveGit(projectRoot: string): Server {
  const expected = `Basic ${Buffer.from(`${USER}:${SECRET}`).toString("base64")}`;
  return createServer(
    { key: readFileSync(at("key.pem")), cert: readFileSync(at("cert.pem")) },
    (req, res) => {
      if (req.headers.authorization !== expected) {
        seen.refused++;
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end();
        return;
      }
      seen.authorized++;
      const target = new URL(req.url ?? "/", "https://localhost");
      const cgi = spawn("git", ["http-backend"], {
        env: {
          PATH: process.env.PATH,
          GIT_PROJECT_ROOT: projectRoot,
          GIT_HTTP_EXPORT_ALL: "1",
          REQUEST_METHOD: req.method ?? "GET",
          PATH_INFO: decodeURIComponent(target.pathname),
          QUERY_STRING: target.search.slice(1),
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          REMOTE_USER: USER,
          REMOTE_ADDR: "127.0.0.1",
          GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
          HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
        },
        stdio: ["pipe", "pipe", "ignore"],
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let started = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (started) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        started = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end + 4));
      });
      cgi.stdout.on("end", () => res.end());
    },
  );
}

beforeAll(async () => {
  dir = await tempDir("cg-git-https-");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      at("key.pem"),
      "-out",
      at("cert.pem"),
    ],
    { stdio: "ignore" },
  );
  ca = at("cert.pem");
  upstream = await createTempRepo({ "README.md": "over https\n" });
  upstream.git("tag", "v1");
  await mkdir(at("srv"));
  execFileSync("git", ["clone", "--bare", "-q", upstream.dir, at("srv", "app.git")]);
  server = serveGit(at("srv"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
  // The CA for git, and a HOME of our own: nothing of the machine's git config takes part.
  gitEnv = { PATH: process.env.PATH, HOME: at("home"), GIT_SSL_CAINFO: ca };
  await mkdir(at("home"));
});
afterAll(async () => {
  server?.close();
  await upstream?.cleanup();
  await dir?.cleanup();
});
beforeEach(() => {
  seen.authorized = 0;
  seen.refused = 0;
});

async function credentialsFile(name: string, secret: string): Promise<string> {
  const file = at(`${name}-credentials`);
  await writeFile(file, `https://${USER}:${secret}@127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  await chmod(file, 0o600);
  return file;
}

/** Every file under `root` that holds `text`. */
function filesHolding(root: string, text: string): string[] {
  const found = spawnSync("grep", ["-rl", "--", text, root], { encoding: "utf8" });
  return found.stdout.split("\n").filter(Boolean);
}

describe("GIT_CREDENTIALS_FILE", () => {
  it("clones and fetches with the deployer's credential, which no base, checkout or record ever holds", async () => {
    const file = await credentialsFile("good", SECRET);
    const { dir: root, cleanup } = await tempDir("cg-ws-creds-");
    try {
      const m = createWorkspaceManager({
        root,
        credentialsFile: file,
        env: gitEnv,
        allowlist: parseRepoAllowlist(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`)
          .allowlist,
        refreshIntervalMs: 0,
      });
      expect(await m.checkRef(url, "v1")).toEqual({ status: "found" }); // ls-remote, before any base
      expect(await m.checkRef(url, "nope")).toMatchObject({ status: "missing" });
      const ws = await m.prepare({ jobId: "https-1", repo: url });
      expect(await readFile(join(ws.dir, "README.md"), "utf8")).toBe("over https\n");
      await m.prepare({ jobId: "https-2", repo: url, ref: "v1" }); // a fetch into the warm base
      expect(seen.authorized).toBeGreaterThan(0);

      const gitConfig = (cwd: string) =>
        execFileSync("git", ["config", "--list", "--local"], { cwd, encoding: "utf8", env: gitEnv as never });
      expect(gitConfig(ws.dir)).not.toMatch(/credential|s3cret/);
      expect(gitConfig(join(root, "bases", baseDirName(url)))).not.toMatch(/credential|s3cret/);
      expect(gitConfig(ws.dir)).toContain(`remote.origin.url=${url}`);
      expect(filesHolding(root, SECRET)).toEqual([]);
      expect(filesHolding(root, "credential")).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("without it, the clone fails at once (no prompt) and says so without a secret", async () => {
    const { dir: root, cleanup } = await tempDir("cg-ws-nocreds-");
    try {
      const m = createWorkspaceManager({ root, env: gitEnv });
      expect(await m.checkRef(url, "v1")).toMatchObject({ status: "unknown" }); // upstream would not say
      const error = await m.prepare({ jobId: "anon", repo: url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkspaceError);
      expect((error as WorkspaceError).reason).toBe("clone_failed");
      expect((error as WorkspaceError).stderrTail).toMatch(/could not read Username|Authentication failed/);
      expect(seen.authorized).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it("a rejected credential is not erased from the deployer's file", async () => {
    const file = await credentialsFile("wrong", "not-the-token");
    const before = await readFile(file, "utf8");
    const { dir: root, cleanup } = await tempDir("cg-ws-badcreds-");
    try {
      const m = createWorkspaceManager({ root, credentialsFile: file, env: gitEnv });
      const error = await m.prepare({ jobId: "wrong", repo: url }).catch((e: unknown) => e);
      expect((error as WorkspaceError).reason).toBe("clone_failed");
      expect((error as WorkspaceError).stderrTail).not.toContain("not-the-token");
      expect(seen.refused).toBeGreaterThan(0);
      expect(await readFile(file, "utf8")).toBe(before);
    } finally {
      await cleanup();
    }
  });

  it("a caller's URL never brings credentials of its own", async () => {
    const { dir: root, cleanup } = await tempDir("cg-ws-urlcreds-");
    try {
      const m = createWorkspaceManager({ root, env: gitEnv });
      const withToken = url.replace("https://", `https://${USER}:${SECRET}@`);
      const error = await m.prepare({ jobId: "url-creds", repo: withToken }).catch((e: unknown) => e);
      expect((error as WorkspaceError).reason).toBe("invalid_repo");
      expect((error as WorkspaceError).message).not.toContain(SECRET);
      expect(seen.authorized + seen.refused).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

describe("the credential-store helper, run by real git", () => {
  const fill = (env: Record<string, string>, cwd: string) =>
    execFileSync("git", ["credential", "fill"], {
      cwd,
      env,
      input: "protocol=https\nhost=git.example.com\n\n",
      encoding: "utf8",
      stdio: "pipe",
    });

  it("answers from the file (a path with spaces and quotes); erase leaves it alone; no global helper is asked", async () => {
    const home = at("helper-home");
    const file = join(home, "it's a secret", "credentials");
    await mkdir(join(home, "it's a secret"), { recursive: true });
    await writeFile(file, "https://bot:s3cret@git.example.com\n");
    await chmod(file, 0o600);
    const env = childEnv({ PATH: process.env.PATH, HOME: home }, file);
    expect(fill(env, home)).toContain("username=bot\npassword=s3cret\n");

    // After a rejected login git asks every helper to erase the credential; ours only reads.
    execFileSync("git", ["credential", "reject"], {
      cwd: home,
      env,
      input: "protocol=https\nhost=git.example.com\nusername=bot\npassword=s3cret\n\n",
    });
    expect(await readFile(file, "utf8")).toBe("https://bot:s3cret@git.example.com\n");

    // A helper in the user's global config (an agent sharing HOME could have written it) is never asked.
    await writeFile(join(home, ".gitconfig"), "[credential]\n\thelper = !echo password=planted #\n");
    expect(() => fill(childEnv({ PATH: process.env.PATH, HOME: home }), home)).toThrow(
      /terminal prompts disabled/,
    );
  });
});
