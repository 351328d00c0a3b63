import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "@claude-gateway/testkit";
import { type NatsServer, startNatsServer } from "@claude-gateway/testkit/nats-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats, loadNatsCredentials, NatsConnectError } from "../src/index.js";

// The credentials a service reads from its environment, against a real nats-server with the bus's
// users, over real TLS (a throwaway CA and server certificate made with openssl).
let dir: { dir: string; cleanup(): Promise<void> };
let server: NatsServer;
let ca: string;

beforeAll(async () => {
  dir = await tempDir("cg-nats-tls-");
  const at = (f: string) => join(dir.dir, f);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=test-ca",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.pem"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
  );
  execFileSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${at("ext.cnf")}`]);
  openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    at("ext.cnf"),
    "-out",
    at("server.pem"),
  );
  ca = at("ca.pem");
  server = await startNatsServer({
    bus: { anonymous: false },
    tls: { certFile: at("server.pem"), keyFile: at("server.key") },
  });
});
afterAll(async () => {
  await server?.stop();
  await dir?.cleanup();
});

const connectWith = (env: Record<string, string>) => {
  const { credentials, problems } = loadNatsCredentials(env);
  expect(problems).toEqual([]);
  return connectNats({ url: server.url, name: "credentials-test", credentials });
};

describe("a service's NATS credentials, for real", () => {
  it("connects over TLS as its own user, with its own inbox prefix", async () => {
    const nc = await connectWith({ ...server.envOf("executor"), NATS_TLS_CA: ca });
    try {
      expect(nc.info?.tls_required).toBe(true);
      // A request's reply comes back to `_INBOX_svc_executor…`, the one inbox it may read.
      const reply = await nc.request("$JS.API.INFO", new Uint8Array(), { timeout: 5_000 });
      expect(reply.subject.startsWith("_INBOX_svc_executor.")).toBe(true);
    } finally {
      await nc.close();
    }
  });
  it("without the CA, TLS fails with a message that says what to set", async () => {
    const err = await connectWith(server.envOf("executor")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsConnectError);
    expect((err as Error).message).toMatch(/NATS_TLS_CA|TLS/);
  });
  it("a wrong password is refused; the message names the user and never the password", async () => {
    const err = await connectWith({
      ...server.envOf("executor"),
      NATS_PASSWORD: "not-the-password-0",
      NATS_TLS_CA: ca,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsConnectError);
    expect((err as Error).message).toMatch(/refused user svc_executor/);
    expect((err as Error).message).not.toContain("not-the-password-0");
  });
});
