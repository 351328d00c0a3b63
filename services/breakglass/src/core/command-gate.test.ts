import { describe, expect, it } from "vitest";
import {
  classifyCommand,
  classifyToolCall,
  DEFAULT_READONLY_COMMANDS,
  parseReadOnlyList,
  readOnlyEntryProblem,
  shellWords,
} from "./command-gate.js";

const ro = DEFAULT_READONLY_COMMANDS;
const kind = (command: string) => {
  const v = classifyCommand(command, ro);
  return v.kind === "ask" ? `ask:${v.risk}` : v.kind;
};

describe("classifyCommand", () => {
  it.each([
    "ssh pve status",
    "ssh pve forensics",
    "ssh pve 'status'",
    'ssh pve "forensics"',
    "ssh devvm uptime",
    "ssh devvm 'uptime'",
    'ssh devvm "uptime"',
    "ssh devvm df -h",
    "ssh devvm 'df -h'",
    'ssh devvm "df -h"',
    "ssh devvm 'df' '-h'",
    "ssh  devvm   uptime",
    "ssh devvm systemctl --failed",
    "ssh devvm 'journalctl -b -p err --no-pager -n 200'",
  ])("%s runs without asking", (command) => {
    expect(kind(command)).toBe("read-only");
  });

  it.each(["reset", "stop", "start", "cycle"])("ssh pve %s asks as mutating", (verb) => {
    expect(classifyCommand(`ssh pve ${verb}`, ro)).toEqual({
      kind: "ask",
      risk: "mutating",
      host: "pve",
      remote: verb,
    });
    expect(kind(`ssh pve '${verb}'`)).toBe("ask:mutating");
  });

  it.each([
    "ssh devvm 'uptime; reboot'",
    'ssh devvm "uptime; reboot"',
    "ssh devvm 'uptime && reboot'",
    "ssh devvm 'uptime | sh'",
    "ssh devvm 'uptime & reboot'",
    "ssh devvm 'uptime > /etc/motd'",
    "ssh devvm 'uptime < /dev/null'",
    "ssh devvm '$(reboot)'",
    "ssh devvm 'uptime `reboot`'",
    "ssh devvm 'uptime\nreboot'",
    "ssh devvm 'uptime\rreboot'",
    "ssh devvm 'uptime\\'",
    "ssh devvm 'uptime #'",
    "ssh devvm 'uptime*'",
    "ssh devvm reboot",
    "ssh devvm systemctl restart nginx",
    "ssh devvm 'df  -h'",
    "ssh devvm 'df -h '",
    "ssh devvm UPTIME",
    "ssh devvm uptime -p",
    "ssh devvm -o ProxyCommand=x uptime",
    "ssh devvm 'ｕptime'",
    "ssh devvm 'df -h; free -m'",
  ])("%j asks as a remote shell", (command) => {
    expect(kind(command)).toBe("ask:remote-shell");
  });

  it.each([
    "ssh devvm uptime; reboot",
    "ssh devvm uptime && touch x",
    "ssh devvm uptime || touch x",
    "ssh devvm uptime | sh",
    "ssh devvm uptime &",
    "ssh devvm uptime > file",
    "ssh devvm uptime < file",
    "ssh devvm $(touch x)",
    "ssh devvm `touch x`",
    'ssh devvm "$(touch x)"',
    'ssh devvm "`touch x`"',
    'ssh devvm "uptime\\"',
    "ssh devvm uptime\nreboot",
    "ssh devvm 'uptime",
    'ssh devvm "uptime',
    "ssh devvm ~/x",
    "ssh devvm *",
    "ssh devvm {a,b}",
    "ssh devvm uptime # c",
    "ssh devvm (uptime)",
    "ssh pve status; reboot",
    "ssh pve reboot",
    "ssh pve 'status forensics'",
    "ssh pve",
    "ssh devvm",
    "ssh otherhost uptime",
    "ssh -o ProxyCommand=x devvm uptime",
    "/usr/bin/ssh devvm uptime",
    "FOO=1 ssh devvm uptime",
    "scp devvm:/etc/passwd .",
    "rm -rf /",
    "curl example.com",
    "",
    "   ",
  ])("%j is refused", (command) => {
    expect(kind(command)).toBe("refused");
  });

  it("uses the configured list, exactly", () => {
    expect(classifyCommand("ssh devvm uptime", ["df -h"]).kind).toBe("ask");
    expect(classifyCommand("ssh devvm 'cat /proc/loadavg'", ["cat /proc/loadavg"]).kind).toBe("read-only");
    expect(classifyCommand("ssh devvm 'cat /proc/loadavg; reboot'", ["cat /proc/loadavg; reboot"]).kind).toBe(
      "ask",
    );
  });
});

describe("classifyToolCall", () => {
  it("refuses other tools and malformed input", () => {
    expect(classifyToolCall("Read", { file_path: "/etc/shadow" }, ro).kind).toBe("refused");
    expect(classifyToolCall("Bash", {}, ro).kind).toBe("refused");
    expect(classifyToolCall("Bash", null, ro).kind).toBe("refused");
    expect(classifyToolCall("Bash", { command: "ssh pve status" }, ro).kind).toBe("read-only");
  });
});

describe("shellWords", () => {
  it("joins adjacent quoted parts into one word", () => {
    expect(shellWords(`ssh devvm 'up'"time" x`)).toEqual({ words: ["ssh", "devvm", "uptime", "x"] });
  });
});

describe("the read-only list", () => {
  it("parses ';'-separated entries and refuses shell syntax", () => {
    expect(parseReadOnlyList(" uptime ; df -h;;")).toEqual({ commands: ["uptime", "df -h"], problems: [] });
    expect(parseReadOnlyList("uptime|sh").problems).toHaveLength(1);
    expect(readOnlyEntryProblem("df  -h")).toMatch(/spaces/);
    expect(readOnlyEntryProblem("$(x)")).toMatch(/shell syntax/);
    for (const c of DEFAULT_READONLY_COMMANDS) expect(readOnlyEntryProblem(c)).toBeUndefined();
  });
});
