import {
  AdapterPreconditionError,
  T3ThreadUnreadableError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamNotJsonError,
  UpstreamUnreachableError,
} from "@claude-gateway/afk-adapters";
import { MarkerDecodeError } from "@claude-gateway/afk-core";
import { describe, expect, it } from "vitest";
import { isT3Outage } from "./t3-outage.js";

const PATH = "/api/orchestration/threads/t1";

describe("isT3Outage: what counts as T3 not being readable", () => {
  it.each<[string, unknown, boolean]>([
    [
      "T3 unreachable or too slow",
      new UpstreamUnreachableError("t3", "GET", PATH, new Error("fetch failed")),
      true,
    ],
    ["T3 non-2xx", new UpstreamHttpError("t3", "GET", "/api/orchestration/snapshot", 503, "down"), true],
    ["T3 not JSON", new UpstreamNotJsonError("t3", "GET", PATH, "text/html", "<html>"), true],
    ["T3 off-contract", new UpstreamContractError("t3", "GET", PATH, ["thread.latestTurn.state: …"]), true],
    [
      "T3 thread unreadable (no endpoint, no messages in the snapshot)",
      new T3ThreadUnreadableError(PATH, "status 404", new UpstreamHttpError("t3", "GET", PATH, 404, "")),
      true,
    ],
    [
      "a T3 thread that is gone (the run escalates instead)",
      new AdapterPreconditionError("t3", "gone"),
      false,
    ],
    ["the tracker failing", new UpstreamHttpError("forgejo", "GET", "/repos/a/b", 503, ""), false],
    ["the doorbell failing", new UpstreamUnreachableError("slack", "POST", "webhook", new Error("x")), false],
    ["a corrupt marker", new MarkerDecodeError("run marker is not JSON"), false],
    ["anything else", new Error("boom"), false],
  ])("%s → %s", (_, err, expected) => {
    expect(isT3Outage(err)).toBe(expected);
  });
});
