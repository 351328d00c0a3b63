import { describe, expect, it } from "vitest";
import {
  functionCallIdOf,
  jobClientIdOf,
  messageIdOf,
  responseIdOf,
  uuidOfJobClientId,
  uuidOfResponseId,
} from "./ids.js";

const UUID = "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d";

describe("response ids", () => {
  it("one uuid names the response, its message and its job", () => {
    expect(responseIdOf(UUID)).toBe(`resp_${UUID}`);
    expect(messageIdOf(UUID)).toBe("msg_0b1c2d3e4f504a1b8c2d3e4f5a6b7c8d");
    expect(jobClientIdOf(UUID)).toBe(`resp-${UUID}`);
  });

  it("a function call item is named by the API's id of its call", () => {
    expect(functionCallIdOf("toolu_01AbC")).toBe("fc_toolu_01AbC");
  });

  it("reads the uuid back from a response id and from a job's client id", () => {
    expect(uuidOfResponseId(responseIdOf(UUID))).toBe(UUID);
    expect(uuidOfJobClientId(jobClientIdOf(UUID))).toBe(UUID);
  });

  it.each([
    `resp-${UUID}`,
    `resp_${UUID}x`,
    "resp_",
    `msg_${UUID}`,
    `resp_${UUID.toUpperCase()}`,
    "resp_../x",
  ])("%s is no response id of ours", (id) => {
    expect(uuidOfResponseId(id)).toBeUndefined();
  });

  it("a job of another API is no response's", () => {
    expect(uuidOfJobClientId(`oai-${UUID}`)).toBeUndefined();
    expect(uuidOfJobClientId(undefined)).toBeUndefined();
  });
});
