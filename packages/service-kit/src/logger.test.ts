import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

describe("createLogger", () => {
  it("names the service and redacts secrets", () => {
    const lines: string[] = [];
    const origWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      lines.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    try {
      createLogger("svc", "info").info({ token: "abc", req: { authorization: "Bearer x" }, ok: 1 }, "hello");
    } finally {
      process.stdout.write = origWrite;
    }
    const line = lines.join("");
    expect(JSON.parse(line)).toMatchObject({ service: "svc", msg: "hello", ok: 1, token: "[redacted]" });
    expect(line).not.toContain("abc");
    expect(line).not.toContain("Bearer x");
  });
});
