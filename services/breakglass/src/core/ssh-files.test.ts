import { describe, expect, it } from "vitest";
import { hostNameProblem, renderSshConfig, renderSshWrapper, shellQuote, userProblem } from "./ssh-files.js";

const base = {
  agentSocket: "/tmp/bg/agent.sock",
  publicKeyFile: "/tmp/bg/id.pub",
  knownHostsFile: "/etc/claude-gateway/ssh/known_hosts",
};

describe("renderSshConfig", () => {
  it("defines the configured aliases and the strict defaults", () => {
    const text = renderSshConfig({
      ...base,
      hosts: {
        devvm: { hostName: "devvm.internal", user: "root", port: 22 },
        pve: { hostName: "192.0.2.11", user: "breakglass", port: 2222 },
      },
    });
    expect(text).toContain("Host devvm\n  HostName devvm.internal\n  User root\n  Port 22\n");
    expect(text).toContain("Host pve\n  HostName 192.0.2.11\n  User breakglass\n  Port 2222\n");
    for (const line of [
      '  IdentityAgent "/tmp/bg/agent.sock"',
      '  IdentityFile "/tmp/bg/id.pub"',
      "  IdentitiesOnly yes",
      "  StrictHostKeyChecking yes",
      '  UserKnownHostsFile "/etc/claude-gateway/ssh/known_hosts"',
      "  GlobalKnownHostsFile /dev/null",
      "  BatchMode yes",
      "  ProxyCommand none",
      "  PermitLocalCommand no",
      "  ForwardAgent no",
      "  ClearAllForwardings yes",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
  });

  it("leaves out an alias that is not configured", () => {
    const text = renderSshConfig({ ...base, hosts: { pve: { hostName: "pve", user: "root", port: 22 } } });
    expect(text).not.toContain("Host devvm");
  });

  it.each([
    ["a newline in the host", { hostName: "pve\n  ProxyCommand x", user: "root", port: 22 }],
    ["a space in the host", { hostName: "pve x", user: "root", port: 22 }],
    ["an option as host", { hostName: "-oProxyCommand=x", user: "root", port: 22 }],
    ["a bad user", { hostName: "pve", user: "root\nHost *", port: 22 }],
    ["a bad port", { hostName: "pve", user: "root", port: 0 }],
  ])("refuses %s", (_what, pve) => {
    expect(() => renderSshConfig({ ...base, hosts: { pve } })).toThrow();
  });

  it("refuses paths it cannot quote", () => {
    expect(() => renderSshConfig({ ...base, agentSocket: "/tmp/a b", hosts: {} })).toThrow();
    expect(() => renderSshConfig({ ...base, knownHostsFile: 'x"', hosts: {} })).toThrow();
  });

  it("host and user checks", () => {
    expect(hostNameProblem("devvm.internal")).toBeUndefined();
    expect(hostNameProblem("127.0.0.1")).toBeUndefined();
    expect(hostNameProblem("::1")).toBeUndefined();
    expect(hostNameProblem("a;b")).toBeDefined();
    expect(userProblem("root")).toBeUndefined();
    expect(userProblem("Root")).toBeDefined();
  });
});

describe("renderSshWrapper", () => {
  it("allows the configured aliases only, pins the config, ends options with --", () => {
    const text = renderSshWrapper({
      sshBin: "/usr/bin/ssh",
      configPath: "/tmp/bg/config",
      aliases: ["devvm", "pve"],
    });
    expect(text).toBe(
      [
        "#!/bin/sh",
        "# Written by breakglass at start-up: the agent's only ssh. See src/core/ssh-files.ts.",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell, not a template
        'case "${1-}" in',
        "  devvm|pve) ;;",
        "  *) echo 'breakglass: only '\\''ssh devvm …'\\'' and '\\''ssh pve …'\\'' are available' >&2; exit 2 ;;",
        "esac",
        "exec '/usr/bin/ssh' -F '/tmp/bg/config' -o BatchMode=yes -n -- \"$@\"",
        "",
      ].join("\n"),
    );
  });

  it("refuses everything, with the reason, when SSH is unusable", () => {
    const text = renderSshWrapper({
      sshBin: "/usr/bin/ssh",
      configPath: "/dev/null",
      aliases: [],
      unavailable: "SSH_KEY_FILE is not set",
    });
    expect(text).toContain("echo 'breakglass: SSH_KEY_FILE is not set' >&2\nexit 2\n");
    expect(text).not.toContain("exec");
  });

  it("shellQuote survives quotes", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
