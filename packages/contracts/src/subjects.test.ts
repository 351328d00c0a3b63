import { describe, expect, it } from "vitest";
import { principalId } from "./principal.js";
import { InvalidSubjectTokenError, principalOfSubject, subjects } from "./subjects.js";

const ada = principalId("nats", "ada");

describe("subjects", () => {
  it("are versioned under agent.v1, one family per third token, the caller last", () => {
    expect(subjects.jobs.submit(ada)).toBe("agent.v1.jobs.submit.nats_ada");
    expect(subjects.jobs.admit(ada)).toBe("agent.v1.jobs.admit.nats_ada");
    expect(subjects.jobs.get(ada)).toBe("agent.v1.jobs.get.nats_ada");
    expect(subjects.jobs.cancel(ada)).toBe("agent.v1.jobs.cancel.nats_ada");
    expect(subjects.jobs.serve.submit).toBe("agent.v1.jobs.submit.*");
    expect(subjects.queue.subject).toBe("agent.v1.queue.jobs");
    expect(subjects.conversational.turn(ada)).toBe("agent.v1.conversational.turn.nats_ada");
    // A forwarded turn and its events stay under the replica subjects only conversational may use.
    expect(subjects.conversational.forwardTo("conv-a")).toBe("agent.v1.conversational.replica.conv-a.turn");
    expect(subjects.conversational.forwardEvents("conv-b", "f1")).toBe(
      "agent.v1.conversational.replica.conv-b.events.f1",
    );
    expect(() => subjects.conversational.forwardTo("a.b")).toThrow();
  });
  it("puts a job's events under its caller, so 'only your own' is one permission", () => {
    expect(subjects.jobs.events(ada, "job-1_A")).toBe("agent.v1.jobs.events.nats_ada.job-1_A");
    expect(subjects.jobs.principalEvents(ada)).toBe("agent.v1.jobs.events.nats_ada.>");
  });
  it("keeps families apart whatever the caller is called or the job's id is", () => {
    // The old layout let a job id `submit` meet `agent.v1.jobs.submit`; now the family is fixed.
    const events = subjects.jobs.events(principalId("tok", "events"), "submit");
    expect(events.split(".")[3]).toBe("events");
    expect(principalOfSubject(events)).toBeUndefined();
  });
  it.each(["", "a.b", "*", ">", "a b", "a\nb", "x".repeat(129), "ä"])(
    "refuses the id %j as a token",
    (id) => {
      expect(() => subjects.jobs.events(ada, id)).toThrow(InvalidSubjectTokenError);
    },
  );
  it.each(["ada", "nats_a.b", "*", ">", "tok_", "root_x"])("refuses %j as a principal token", (p) => {
    expect(() => subjects.jobs.submit(p)).toThrow(InvalidSubjectTokenError);
  });
  it("reads the caller back from a request subject", () => {
    expect(principalOfSubject("agent.v1.jobs.submit.nats_ada")).toBe("nats_ada");
    expect(principalOfSubject("agent.v1.conversational.turn.tok_ci")).toBe("tok_ci");
    expect(principalOfSubject("agent.v1.jobs.submit")).toBeUndefined();
    expect(principalOfSubject("agent.v1.jobs.submit.nope")).toBeUndefined();
    expect(principalOfSubject("agent.v2.jobs.submit.nats_ada")).toBeUndefined();
  });
});
