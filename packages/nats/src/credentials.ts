import { readFileSync } from "node:fs";
import { inboxPrefixOf } from "@claude-gateway/contracts";
import { loadServiceConfig, type ServiceConfig } from "@claude-gateway/service-kit/config";
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from "@nats-io/nats-core";
import type { z } from "zod";

/** Reads a file's bytes; `fs.readFileSync` fits. Injected so tests need no files. */
export type ReadBytes = (path: string) => Uint8Array;

/** How a service authenticates to NATS, from its environment (no secret kept in a loggable field). */
export interface NatsCredentials {
  /** Spread into the client's connection options. */
  options: Partial<ConnectionOptions>;
  /** For logs and errors: how it authenticates, never with what (`user svc_executor`, `creds file /x`). */
  describe: string;
}

/** Every variable read here, for the README and config tables. */
export const NATS_CREDENTIAL_VARIABLES = [
  "NATS_CREDS",
  "NATS_NKEY_SEED_FILE",
  "NATS_USER",
  "NATS_PASSWORD",
  "NATS_PASSWORD_FILE",
  "NATS_TLS_CA",
  "NATS_TLS_CERT",
  "NATS_TLS_KEY",
  "NATS_INBOX_PREFIX",
] as const;

const INBOX_PREFIX = /^[A-Za-z0-9_-]+$/;

/**
 * The connection's credentials and TLS from `NATS_CREDS` (a `.creds` file), `NATS_NKEY_SEED_FILE`,
 * or `NATS_USER` with `NATS_PASSWORD` / `NATS_PASSWORD_FILE` (one of the three ways, or none for an
 * open development bus), `NATS_TLS_CA` and optionally `NATS_TLS_CERT` + `NATS_TLS_KEY`. Replies
 * arrive under `NATS_INBOX_PREFIX`, by default `_INBOX_<NATS_USER>` (the generated server
 * configuration lets each user read only its own). Every problem is listed; none quotes a secret.
 */
export function loadNatsCredentials(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadBytes = readFileSync,
): { credentials: NatsCredentials; problems: string[] } {
  const v = (name: string) => env[name] || undefined;
  const problems: string[] = [];
  const read = (name: string): Uint8Array | undefined => {
    const path = v(name);
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      problems.push(`${name}: cannot read "${path}" (${code})`);
      return undefined;
    }
  };
  const options: Partial<ConnectionOptions> = {};
  let describe = "no credentials";

  const ways = (["NATS_CREDS", "NATS_NKEY_SEED_FILE", "NATS_USER"] as const).filter((n) => v(n));
  if (ways.length > 1) problems.push(`set one of ${ways.join(", ")}, not several`);
  const user = v("NATS_USER");
  const inlinePassword = v("NATS_PASSWORD");
  const passwordFile = v("NATS_PASSWORD_FILE");
  if (!user && (inlinePassword || passwordFile)) problems.push("NATS_PASSWORD(_FILE) needs NATS_USER");

  if (ways.length <= 1) {
    if (v("NATS_CREDS")) {
      const creds = read("NATS_CREDS");
      if (creds && !new TextDecoder().decode(creds).includes("BEGIN NATS USER JWT")) {
        problems.push(`NATS_CREDS: "${v("NATS_CREDS")}" is not a .creds file (no user JWT in it)`);
      } else if (creds) {
        options.authenticator = credsAuthenticator(creds);
        describe = `creds file ${v("NATS_CREDS")}`;
      }
    } else if (v("NATS_NKEY_SEED_FILE")) {
      const seed = read("NATS_NKEY_SEED_FILE");
      const text = seed ? new TextDecoder().decode(seed).trim() : "";
      if (seed && !/^SU[A-Z2-7]{56}$/.test(text)) {
        problems.push(`NATS_NKEY_SEED_FILE: "${v("NATS_NKEY_SEED_FILE")}" holds no user nkey seed (SU…)`);
      } else if (seed) {
        options.authenticator = nkeyAuthenticator(new TextEncoder().encode(text));
        describe = `nkey seed file ${v("NATS_NKEY_SEED_FILE")}`;
      }
    } else if (user) {
      if (inlinePassword && passwordFile) problems.push("set NATS_PASSWORD or NATS_PASSWORD_FILE, not both");
      else if (!inlinePassword && !passwordFile)
        problems.push("NATS_USER needs NATS_PASSWORD or NATS_PASSWORD_FILE");
      else {
        const bytes = passwordFile ? read("NATS_PASSWORD_FILE") : undefined;
        // A mounted secret usually ends with a newline; the password does not.
        const pass = inlinePassword ?? (bytes ? new TextDecoder().decode(bytes).trim() : undefined);
        if (pass === "") problems.push(`NATS_PASSWORD_FILE (${passwordFile}): empty`);
        else if (pass !== undefined) {
          options.user = user;
          options.pass = pass;
          describe = `user ${user}`;
        }
      }
    }
  }

  const inboxPrefix = v("NATS_INBOX_PREFIX") ?? (user ? inboxPrefixOf(user) : undefined);
  if (inboxPrefix !== undefined) {
    if (INBOX_PREFIX.test(inboxPrefix)) options.inboxPrefix = inboxPrefix;
    else problems.push(`NATS_INBOX_PREFIX: '${inboxPrefix}' must be letters, digits, '_' and '-'`);
  }

  const ca = v("NATS_TLS_CA");
  const cert = v("NATS_TLS_CERT");
  const key = v("NATS_TLS_KEY");
  if ((cert === undefined) !== (key === undefined))
    problems.push("NATS_TLS_CERT and NATS_TLS_KEY go together");
  for (const name of ["NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"] as const) read(name);
  if (ca || cert) {
    options.tls = { ...(ca ? { caFile: ca } : {}), ...(cert && key ? { certFile: cert, keyFile: key } : {}) };
    describe += ", TLS";
  }
  return { credentials: { options, describe }, problems };
}

/** A NATS-connected service's configuration: its own, plus how it authenticates to the bus. */
export type NatsServiceConfig<S extends z.ZodType> = ServiceConfig<S> & { nats: NatsCredentials };

/**
 * `loadServiceConfig` for a service on the bus: the NATS credentials' problems are listed with every
 * other problem, at start-up.
 */
export function loadNatsServiceConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  check?: (parsed: z.output<S>) => string[],
  readFile: ReadBytes = readFileSync,
): NatsServiceConfig<S> {
  const { credentials, problems } = loadNatsCredentials(env, readFile);
  const config = loadServiceConfig(service, schema, env, (parsed) => [
    ...(check?.(parsed) ?? []),
    ...problems,
  ]);
  return { ...config, nats: credentials };
}
