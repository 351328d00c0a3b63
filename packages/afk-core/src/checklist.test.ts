import { describe, expect, it } from "vitest";
import { renderChecklist } from "./checklist.js";
import { decodeMarker } from "./marker.js";
import { marker, T0 } from "./test-support/fixtures.js";

const opts = { deployConfigured: false, maxFixForwards: 3 };
const ticked = (md: string) =>
  md
    .split("\n")
    .filter((l) => l.startsWith("- ["))
    .map((l) => (l.startsWith("- [x]") ? "x" : "."))
    .join("");

describe("renderChecklist", () => {
  it.each([
    { name: "just dispatched", m: marker(), deploy: false, ticks: "x......" },
    { name: "tests green", m: marker({ phase: "tests-green" }), deploy: false, ticks: "xxx...." },
    { name: "CI running", m: marker({ phase: "ci-running", sha: "abc" }), deploy: false, ticks: "xxxxx.." },
    { name: "done without a deploy step", m: marker({ phase: "done" }), deploy: false, ticks: "xxxxxxx" },
    { name: "done with a deploy step", m: marker({ phase: "done" }), deploy: true, ticks: "xxxxxxxx" },
    { name: "CI green, deploy pending", m: marker({ phase: "ci-green" }), deploy: true, ticks: "xxxxxx.." },
    {
      name: "escalated keeps what was reached",
      m: marker({ phase: "escalated", escalation: { reason: "stuck", from: "tests-red" } }),
      deploy: false,
      ticks: "xx.....",
    },
  ])("$name", ({ m, deploy, ticks }) => {
    expect(ticked(renderChecklist(m, { ...opts, deployConfigured: deploy }))).toBe(ticks);
  });

  it("shows the thread, the commit, the fix-forward budget, the last CI failure and the escalation", () => {
    const md = renderChecklist(
      marker({
        phase: "escalated",
        sha: "0123456789abcdef",
        fixForwards: 3,
        lastCiFailure: { sha: "fedcba9876543210", checks: ["test", "lint"] },
        escalation: { reason: "CI failed\nagain", from: "ci-running" },
      }),
      opts,
    );
    expect(md).toContain("### AFK run: needs a human");
    expect(md).toContain("thread `t-1`");
    expect(md).toContain("Pushed `0123456789ab`");
    expect(md).toContain("Fix-forwards used: 3/3.");
    expect(md).toContain("Last CI failure: `test`, `lint` on `fedcba987654`.");
    expect(md).toContain("**Escalated:** CI failed again");
  });

  it("carries the marker", () => {
    const m = marker({ phase: "pushed", sha: "abc1234" });
    expect(decodeMarker(renderChecklist(m, opts))).toEqual(m);
  });

  it("says while T3 cannot be read, and whether the doorbell rang", () => {
    const reason = "t3: GET /api/orchestration/snapshot failed:\n fetch `failed`";
    const down = renderChecklist(marker({ t3Outage: { since: T0, rang: false, reason } }), opts);
    expect(down).toContain(
      `**T3 cannot be read** since ${T0}: \`t3: GET /api/orchestration/snapshot failed: fetch 'failed'\``,
    );
    const rung = renderChecklist(marker({ t3Outage: { since: T0, rang: true, reason } }), opts);
    expect(rung).toContain(`since ${T0} (doorbell rung):`);
    expect(renderChecklist(marker({ t3Outage: null }), opts)).not.toContain("T3 cannot be read");
  });

  it("omits the deploy step when nothing deploys", () => {
    expect(renderChecklist(marker(), opts)).not.toContain("Deployed");
    expect(renderChecklist(marker(), { ...opts, deployConfigured: true })).toContain("Deployed");
  });
});
