import { describe, expect, it } from "vitest";
import {
  BusSourceError,
  busUsers,
  callerPermissions,
  passwordVariable,
  renderNatsServerConfig,
  serviceUser,
} from "./bus.js";

const byUser = (callers: string[] = []) => new Map(busUsers(callers).map((u) => [u.user, u]));

describe("the bus's users", () => {
  it("has one user per service and one per internal caller, named by its principal", () => {
    expect([...byUser(["billing-svc", "a.b"]).keys()]).toEqual([
      "svc_executor",
      "svc_openai-gateway",
      "svc_conversational",
      "nats_billing-svc",
      "nats_a_2eb",
    ]);
  });
  it("refuses a caller listed twice", () => {
    expect(() => busUsers(["x", "x"])).toThrow(BusSourceError);
  });
  it("a caller publishes only its own request subjects and reads only its own events and inbox", () => {
    expect(callerPermissions("nats_billing")).toEqual({
      publish: [
        "agent.v1.jobs.submit.nats_billing",
        "agent.v1.jobs.get.nats_billing",
        "agent.v1.jobs.cancel.nats_billing",
        "agent.v1.jobs.tools.nats_billing",
        "agent.v1.conversational.turn.nats_billing",
      ],
      subscribe: ["agent.v1.jobs.events.nats_billing.>", "_INBOX_nats_billing.>"],
      allowResponses: false,
    });
  });
  it("only the executor publishes job events; the gateway reads them and submits admitted jobs only", () => {
    const users = byUser();
    const publishers = [...users.values()].filter((u) =>
      u.permissions.publish.includes("agent.v1.jobs.events.>"),
    );
    expect(publishers.map((u) => u.user)).toEqual([serviceUser("executor")]);
    const gateway = users.get("svc_openai-gateway")!.permissions;
    expect(gateway.subscribe).toContain("agent.v1.jobs.events.>");
    expect(gateway.publish).toContain("agent.v1.jobs.admit.*");
    expect(gateway.publish).not.toContain("agent.v1.jobs.submit.*");
    expect(users.get("svc_executor")!.permissions.publish).not.toContain("agent.v1.jobs.admit.*");
  });
  it("no user may delete a stream, and each reaches only its own buckets", () => {
    const users = byUser(["x"]);
    for (const u of users.values()) {
      expect(
        u.permissions.publish.some((s) => s.includes("STREAM.DELETE") || s === ">" || s === "$JS.API.>"),
      ).toBe(false);
    }
    const executor = users.get("svc_executor")!.permissions.publish;
    const conversational = users.get("svc_conversational")!.permissions.publish;
    expect(executor.some((s) => s.includes("agent_conversations"))).toBe(false);
    expect(conversational.some((s) => s.includes("agent_jobs") || s.includes("AGENT_JOBS"))).toBe(false);
    expect(users.get("nats_x")!.permissions.publish.some((s) => s.startsWith("$"))).toBe(false);
  });
  it("the plan's bucket: written by the services that run the CLI, only read by the gateway", () => {
    const users = byUser(["x"]);
    const writers = [...users.values()].filter((u) => u.permissions.publish.includes("$KV.agent_plan.>"));
    expect(writers.map((u) => u.user)).toEqual([serviceUser("executor"), serviceUser("conversational")]);
    for (const w of writers) expect(w.permissions.publish).toContain("$JS.API.STREAM.CREATE.KV_agent_plan");
    const gateway = users.get("svc_openai-gateway")!.permissions.publish;
    expect(gateway).toContain("$JS.API.STREAM.MSG.GET.KV_agent_plan");
    expect(gateway).toContain("$JS.API.DIRECT.GET.KV_agent_plan.>");
    expect(gateway.some((s) => s.startsWith("$KV.agent_plan"))).toBe(false);
    expect(gateway.some((s) => /STREAM\.(CREATE|UPDATE|PURGE)\.KV_agent_plan/.test(s))).toBe(false);
    expect(users.get("nats_x")!.permissions.publish.some((s) => s.includes("agent_plan"))).toBe(false);
  });
  it("maps user names to password variables one-to-one", () => {
    expect(passwordVariable("svc_openai-gateway")).toBe("NATS_PASSWORD_SVC_OPENAI_2DGATEWAY");
    expect(passwordVariable("nats_a-5f")).not.toBe(passwordVariable("nats_a_5f"));
  });
});

describe("renderNatsServerConfig", () => {
  it("renders users with env-referenced passwords, JetStream and no anonymous access", () => {
    const text = renderNatsServerConfig({
      users: busUsers(["ci"]),
      listen: "0.0.0.0:4222",
      storeDir: "/data",
    });
    expect(text).toContain('user: "svc_executor"');
    expect(text).toContain("password: $NATS_PASSWORD_SVC_EXECUTOR");
    expect(text).toContain('user: "nats_ci"');
    expect(text).toContain('jetstream { store_dir: "/data" }');
    expect(text).not.toContain("no_auth_user");
    expect(text).toContain("allow_responses: true");
  });
  it("renders literal passwords, TLS and a test-only anonymous user when asked", () => {
    const text = renderNatsServerConfig({
      users: busUsers([]),
      listen: "127.0.0.1:-1",
      storeDir: "/tmp/x",
      password: () => ({ literal: "pw" }),
      tls: { certFile: "/c", keyFile: "/k", caFile: "/ca" },
      extraUsers: [{ user: "observer", password: "o" }],
      noAuthUser: "observer",
    });
    expect(text).toContain('password: "pw"');
    expect(text).toContain('cert_file: "/c"');
    expect(text).toContain('no_auth_user: "observer"');
  });
});
