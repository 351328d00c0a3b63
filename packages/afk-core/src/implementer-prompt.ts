import { REPORT_LINES } from "./reports.js";
import type { Check, Issue } from "./types.js";

/**
 * Prepended to every dispatched task. The T3 server does not read a user-level CLAUDE.md, so
 * everything the unattended agent must know travels in the first message.
 */
export const IMPLEMENTER_PREAMBLE = `You are an unattended issue implementer. Nobody is watching this session: do not ask questions, do not wait for approval. Work in the repository checkout you were started in.

How to work:
1. Read the issue below and the repository's own instructions (README, AGENTS.md, CLAUDE.md, CONTRIBUTING) before changing anything.
2. Write the tests that capture the issue first and run them: they must fail for the right reason.
3. Implement the smallest change that makes them pass, then run the repository's whole check suite (lint, typecheck, tests) and fix what it finds.
4. Commit on the default branch with a message that says what changed and references the issue as "Refs #<number>". Never write "Fixes", "Closes" or "Resolves": the loop closes the issue itself once CI (and the deploy, where there is one) is green.
5. Push. Do not force-push, do not rewrite published history, do not skip hooks or checks.

Report your progress by writing these lines, each alone on its own line, exactly as shown:
- \`${REPORT_LINES.testsRed}\` once the new tests fail as expected;
- \`${REPORT_LINES.testsGreen}\` once the whole suite passes locally;
- \`${REPORT_LINES.pushed}\` right after the push succeeded (the 40-character sha of the pushed commit);
- \`${REPORT_LINES.blocked}\` if you cannot finish without a human (missing access, an unclear or contradictory requirement, a risky or irreversible step). Then stop.

Never print, commit or send secrets. Do not touch other issues or repositories.`;

/** What "done" means for the loop; repeated in the prompt so the agent can check itself. */
export const DEFINITION_OF_DONE = [
  "tests that capture the issue exist and were seen failing before the fix",
  "the repository's whole check suite passes locally",
  "the change is committed on the default branch (referencing the issue with Refs, not Fixes) and pushed",
  "you reported PUSHED with the full sha; CI and the deploy on that commit are watched for you",
];

/** The first message of a run: preamble, the issue's own text, the definition of done. */
export function implementerPrompt(issue: Issue): string {
  return [
    IMPLEMENTER_PREAMBLE,
    "",
    `## Issue ${issue.repo}#${issue.number}: ${issue.title}`,
    issue.url,
    "",
    issue.body.trim() || "(no description)",
    "",
    "## Definition of done",
    ...DEFINITION_OF_DONE.map((d) => `- ${d}`),
  ].join("\n");
}

const MAX_DESCRIPTION = 500;

/** The corrective turn sent when CI failed on the pushed commit. */
export function fixForwardPrompt(input: {
  sha: string;
  failures: readonly Check[];
  attempt: number;
  maxAttempts: number;
}): string {
  const failures = input.failures.map((c) => {
    const description = c.description ? `: ${c.description.slice(0, MAX_DESCRIPTION)}` : "";
    return `- ${c.name}${description}${c.url ? ` (${c.url})` : ""}`;
  });
  return [
    `CI failed on the commit you pushed (${input.sha}). This is corrective turn ${input.attempt} of ${input.maxAttempts}.`,
    "",
    "Failing checks:",
    ...(failures.length > 0 ? failures : ["- (the CI system named no failing check)"]),
    "",
    "Find the cause (read the CI logs if you can reach them, reproduce locally), fix it forward with a new commit on top (no force-push), run the whole check suite, and push.",
    `Report again with the same lines: \`${REPORT_LINES.testsGreen}\`, then \`${REPORT_LINES.pushed}\` with the new sha, or \`${REPORT_LINES.blocked}\`.`,
  ].join("\n");
}
