/**
 * The auth configuration is unusable. `problems` lists every issue found, each naming where it is
 * (variable, line, entry) but never a token or secret value, so the message is safe to log.
 */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`Invalid auth configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
    this.problems = problems;
  }
}
