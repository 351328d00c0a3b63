import { describe, expect, it } from "vitest";
import { InvalidSubjectTokenError, subjects } from "./subjects.js";

describe("subjects", () => {
  it("are versioned under agent.v1", () => {
    expect(subjects.jobs.submit).toBe("agent.v1.jobs.submit");
    expect(subjects.jobs.get).toBe("agent.v1.jobs.get");
    expect(subjects.jobs.cancel).toBe("agent.v1.jobs.cancel");
    expect(subjects.queue.subject).toBe("agent.v1.queue.jobs");
    expect(subjects.conversational.turn).toBe("agent.v1.conversational.turn");
  });
  it("builds per-job event subjects", () => {
    expect(subjects.jobs.events("job-1_A")).toBe("agent.v1.jobs.job-1_A.events");
  });
  it.each(["", "a.b", "*", ">", "a b", "a\nb", "x".repeat(129), "ä"])(
    "refuses the id %j as a token",
    (id) => {
      expect(() => subjects.jobs.events(id)).toThrow(InvalidSubjectTokenError);
    },
  );
});
