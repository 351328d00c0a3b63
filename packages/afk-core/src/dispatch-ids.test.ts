import { describe, expect, it } from "vitest";
import { dispatchId, dispatchKey } from "./dispatch-ids.js";

describe("dispatch ids", () => {
  it("the same issue and attempt give the same ids; another attempt, issue or part another", () => {
    const key = dispatchKey({ repo: "acme/app", number: 7 }, 1);
    expect(key).toBe("acme/app#7/attempt-1");
    expect(dispatchId(key, "thread")).toBe(dispatchId(key, "thread"));
    const others = [
      dispatchId(key, "message"),
      dispatchId(dispatchKey({ repo: "acme/app", number: 7 }, 2), "thread"),
      dispatchId(dispatchKey({ repo: "acme/app", number: 8 }, 1), "thread"),
      dispatchId(dispatchKey({ repo: "acme/ap", number: 7 }, 1), "thread"),
    ];
    expect(new Set([dispatchId(key, "thread"), ...others]).size).toBe(5);
  });
  it("are version-5 UUIDs", () => {
    expect(dispatchId("k", "p")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it.each([0, -1, 1.5])("refuses attempt %s", (attempt) => {
    expect(() => dispatchKey({ repo: "a/b", number: 1 }, attempt)).toThrow(RangeError);
  });
});
