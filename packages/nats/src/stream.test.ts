import { describe, expect, it } from "vitest";
import { configDiffers } from "./stream.js";

describe("configDiffers", () => {
  const current = { name: "JOBS", subjects: ["jobs.>"], max_age: 0, max_msgs: -1, retention: "workqueue" };

  it("ignores fields that are not asked for", () => {
    expect(configDiffers(current, { subjects: ["jobs.>"] })).toBe(false);
    expect(configDiffers(current, { max_age: undefined })).toBe(false);
  });

  it("compares values deeply", () => {
    expect(configDiffers(current, { subjects: ["jobs.>", "more.>"] })).toBe(true);
    expect(configDiffers(current, { max_msgs: 10 })).toBe(true);
    expect(configDiffers(current, { description: "new" })).toBe(true);
  });
});
