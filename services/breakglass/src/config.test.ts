import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { DEFAULT_READONLY_COMMANDS } from "./core/command-gate.js";

describe("loadConfig", () => {
  it("defaults: port 8083, VM 102, root users, no SSH (the UI still works)", () => {
    const c = loadConfig({ HOME: "/home/app" });
    expect(c.env).toMatchObject({
      PORT: 8083,
      PVE_VMID: 102,
      SSH_DEVVM_USER: "root",
      SSH_PVE_USER: "root",
      SSH_PVE_PORT: 22,
      VM_VERB_TIMEOUT_SECONDS: 300,
      MAX_CONCURRENT_TURNS: 2,
    });
    expect(c.env.SSH_PVE_HOST).toBeUndefined();
    expect(c.workDir).toBe("/home/app/breakglass");
    expect(c.auth).toEqual({ tokens: [] });
  });

  it("the human gate: the default read-only list and prompt timeout, or the configured ones", () => {
    const d = loadConfig({ HOME: "/h", BREAKGLASS_READONLY_COMMANDS: "" });
    expect(d.env.BREAKGLASS_READONLY_COMMANDS).toEqual([...DEFAULT_READONLY_COMMANDS]);
    expect(d.env.BREAKGLASS_PROMPT_TIMEOUT_SECONDS).toBe(300);
    const c = loadConfig({
      HOME: "/h",
      BREAKGLASS_READONLY_COMMANDS: "uptime; cat /proc/loadavg",
      BREAKGLASS_PROMPT_TIMEOUT_SECONDS: "30",
    });
    expect(c.env.BREAKGLASS_READONLY_COMMANDS).toEqual(["uptime", "cat /proc/loadavg"]);
    expect(c.env.BREAKGLASS_PROMPT_TIMEOUT_SECONDS).toBe(30);
    expect(() =>
      loadConfig({
        HOME: "/h",
        BREAKGLASS_READONLY_COMMANDS: "uptime|sh",
        BREAKGLASS_PROMPT_TIMEOUT_SECONDS: "0",
      }),
    ).toThrow(
      /BREAKGLASS_READONLY_COMMANDS[\s\S]*BREAKGLASS_PROMPT_TIMEOUT_SECONDS|BREAKGLASS_PROMPT_TIMEOUT_SECONDS[\s\S]*BREAKGLASS_READONLY_COMMANDS/,
    );
  });

  it("empty variables count as unset (Kubernetes leaves them so)", () => {
    const c = loadConfig({ HOME: "/h", SSH_PVE_HOST: "", PVE_VMID: "", AUTH_TOKENS: "" });
    expect(c.env.SSH_PVE_HOST).toBeUndefined();
    expect(c.env.PVE_VMID).toBe(102);
  });

  it("the shared settings (auth, models) go through service-kit's loader, empty values unset too", () => {
    const c = loadConfig({
      HOME: "/h",
      AUTH_TOKENS: "me=0123456789abcdef",
      AUTH_TOKENS_FILE: "",
      AUTHENTIK_PROXY_SECRET_HEADER: "",
      DEFAULT_MODEL: "",
      SUPPORTED_MODELS: "",
    });
    expect(c.auth).toEqual({ tokens: [expect.objectContaining({ name: "me" })] });
    expect(c.models.defaultModel).toBe("claude-sonnet-4-6");
    expect(c.env.LOG_LEVEL).toBe("info");
  });

  it("reads the SSH settings", () => {
    const c = loadConfig({
      HOME: "/h",
      PVE_VMID: "105",
      SSH_DEVVM_HOST: "devvm.internal",
      SSH_PVE_HOST: "192.0.2.11",
      SSH_PVE_USER: "breakglass",
      SSH_PVE_PORT: "2222",
      SSH_KEY_FILE: "/etc/claude-gateway/ssh/id_ed25519",
      SSH_KNOWN_HOSTS_FILE: "/etc/claude-gateway/ssh/known_hosts",
      AUTH_TOKENS: "me=0123456789abcdef",
    });
    expect(c.env).toMatchObject({
      PVE_VMID: 105,
      SSH_PVE_HOST: "192.0.2.11",
      SSH_PVE_USER: "breakglass",
      SSH_PVE_PORT: 2222,
    });
  });

  it("lists every problem at once, values that could inject into ssh_config included", () => {
    let message = "";
    try {
      loadConfig({
        HOME: "/h",
        PORT: "x",
        PVE_VMID: "1",
        SSH_PVE_HOST: "pve\n  ProxyCommand sh",
        SSH_DEVVM_USER: "root; id",
        DEFAULT_MODEL: "gpt-4o",
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of ["PORT", "PVE_VMID", "SSH_PVE_HOST", "SSH_DEVVM_USER", "gpt-4o"])
      expect(message).toContain(name);
  });

  it("BREAKGLASS_PUBLIC_ORIGIN is an http(s) origin, kept normalized", () => {
    expect(loadConfig({ HOME: "/h" }).env.BREAKGLASS_PUBLIC_ORIGIN).toBeUndefined();
    for (const [given, kept] of [
      ["https://bg.example.com", "https://bg.example.com"],
      ["https://BG.example.com:443/", "https://bg.example.com"],
      ["http://localhost:8083", "http://localhost:8083"],
    ])
      expect(loadConfig({ HOME: "/h", BREAKGLASS_PUBLIC_ORIGIN: given }).env.BREAKGLASS_PUBLIC_ORIGIN).toBe(
        kept,
      );
    for (const bad of [
      "bg.example.com",
      "https://bg.example.com/console",
      "ftp://bg.example.com",
      "https://x@bg",
    ])
      expect(() => loadConfig({ HOME: "/h", BREAKGLASS_PUBLIC_ORIGIN: bad }), bad).toThrow(
        /BREAKGLASS_PUBLIC_ORIGIN/,
      );
  });

  it("the metrics token is its own, at least 16 characters", () => {
    expect(loadConfig({ HOME: "/h", METRICS_TOKEN: "metrics-token-0123456789" }).metricsToken).toBe(
      "metrics-token-0123456789",
    );
    expect(() => loadConfig({ HOME: "/h", METRICS_TOKEN: "short" })).toThrow(
      /METRICS_TOKEN: shorter than 16/,
    );
  });

  it("needs a HOME or WORK_DIR", () => {
    expect(() => loadConfig({})).toThrow(/WORK_DIR/);
    expect(loadConfig({ WORK_DIR: "/w" }).workDir).toBe("/w");
  });
});
