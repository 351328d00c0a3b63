import { describe, expect, it } from "vitest";
import { loadNatsCredentials, type ReadBytes } from "./credentials.js";

const files =
  (map: Record<string, string>): ReadBytes =>
  (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
    return new TextEncoder().encode(text);
  };
const SEED = `SU${"A".repeat(56)}`;

describe("loadNatsCredentials", () => {
  it("without variables connects without credentials (an open development bus)", () => {
    const { credentials, problems } = loadNatsCredentials({}, files({}));
    expect(problems).toEqual([]);
    expect(credentials.options).toEqual({});
    expect(credentials.describe).toBe("no credentials");
  });
  it("user and password: its own inbox prefix, and the password never in describe", () => {
    const { credentials, problems } = loadNatsCredentials(
      { NATS_USER: "svc_executor", NATS_PASSWORD: "s3cret-s3cret" },
      files({}),
    );
    expect(problems).toEqual([]);
    expect(credentials.options).toMatchObject({
      user: "svc_executor",
      pass: "s3cret-s3cret",
      inboxPrefix: "_INBOX_svc_executor",
    });
    expect(credentials.describe).toBe("user svc_executor");
  });
  it("reads the password from a mounted secret without its trailing newline", () => {
    const { credentials } = loadNatsCredentials(
      { NATS_USER: "u", NATS_PASSWORD_FILE: "/run/nats/password" },
      files({ "/run/nats/password": "from-file\n" }),
    );
    expect(credentials.options.pass).toBe("from-file");
  });
  it("reads an nkey seed file and a creds file", () => {
    const nkey = loadNatsCredentials({ NATS_NKEY_SEED_FILE: "/s" }, files({ "/s": `${SEED}\n` }));
    expect(nkey.problems).toEqual([]);
    expect(nkey.credentials.options.authenticator).toBeTypeOf("function");
    const creds = loadNatsCredentials(
      { NATS_CREDS: "/c", NATS_INBOX_PREFIX: "_INBOX_billing" },
      files({ "/c": "-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n" }),
    );
    expect(creds.problems).toEqual([]);
    expect(creds.credentials.options).toMatchObject({ inboxPrefix: "_INBOX_billing" });
    expect(creds.credentials.describe).toBe("creds file /c");
  });
  it("TLS: the CA alone, or with a client certificate and key", () => {
    const pem = files({ "/ca": "x", "/crt": "x", "/key": "x" });
    expect(loadNatsCredentials({ NATS_TLS_CA: "/ca" }, pem).credentials.options.tls).toEqual({
      caFile: "/ca",
    });
    const mutual = loadNatsCredentials(
      { NATS_TLS_CA: "/ca", NATS_TLS_CERT: "/crt", NATS_TLS_KEY: "/key" },
      pem,
    );
    expect(mutual.credentials.options.tls).toEqual({ caFile: "/ca", certFile: "/crt", keyFile: "/key" });
    expect(mutual.credentials.describe).toBe("no credentials, TLS");
  });
  it("lists every problem, quoting no secret", () => {
    const { problems } = loadNatsCredentials(
      {
        NATS_USER: "u",
        NATS_PASSWORD: "inline-secret",
        NATS_PASSWORD_FILE: "/p",
        NATS_CREDS: "/missing.creds",
        NATS_TLS_CERT: "/crt",
        NATS_INBOX_PREFIX: "bad.prefix",
      },
      files({ "/p": "file-secret" }),
    );
    expect(problems).toEqual([
      "set one of NATS_CREDS, NATS_USER, not several",
      "NATS_INBOX_PREFIX: 'bad.prefix' must be letters, digits, '_' and '-'",
      "NATS_TLS_CERT and NATS_TLS_KEY go together",
      'NATS_TLS_CERT: cannot read "/crt" (ENOENT)',
    ]);
    expect(problems.join("\n")).not.toMatch(/secret/);
  });
  it.each([
    [{ NATS_USER: "u" }, "NATS_USER needs NATS_PASSWORD or NATS_PASSWORD_FILE"],
    [{ NATS_PASSWORD: "p" }, "NATS_PASSWORD(_FILE) needs NATS_USER"],
    [
      { NATS_USER: "u", NATS_PASSWORD: "a", NATS_PASSWORD_FILE: "/p" },
      "set NATS_PASSWORD or NATS_PASSWORD_FILE, not both",
    ],
    [{ NATS_USER: "u", NATS_PASSWORD_FILE: "/empty" }, "NATS_PASSWORD_FILE (/empty): empty"],
    [{ NATS_NKEY_SEED_FILE: "/p" }, 'NATS_NKEY_SEED_FILE: "/p" holds no user nkey seed (SU…)'],
    [{ NATS_CREDS: "/p" }, 'NATS_CREDS: "/p" is not a .creds file (no user JWT in it)'],
  ])("%j: %s", (env, problem) => {
    expect(loadNatsCredentials(env, files({ "/p": "plain", "/empty": "\n" })).problems).toEqual([problem]);
  });
});
