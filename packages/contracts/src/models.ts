/**
 * Which models callers may ask for. The CLI passes unknown ids straight to the API, so the
 * allowlist is ours to enforce, before any process starts.
 */
export const DEFAULT_SUPPORTED_MODELS = [
  "claude-haiku-4-5",
  "claude-sonnet-4-6",
  "claude-opus-4-7",
  // What CLI 2.1.197 resolved its aliases to; kept so callers that name them keep working.
  "claude-sonnet-5",
  "claude-opus-4-8",
  "claude-fable-5",
  // What the pinned CLI (2.1.332) resolves `haiku`, `sonnet`, `opus` and `fable` to
  // (packages/claude/test/cli-facts.wire.cli.test.ts checks that each alias lands in this list).
  "claude-haiku-5-5",
  "claude-sonnet-5-5",
  "claude-opus-5-5",
  "claude-fable-5-2",
] as const;

export const DEFAULT_MODEL = "claude-sonnet-4-6";

export interface ModelPolicy {
  supported: readonly string[];
  defaultModel: string;
}

export class ModelNotSupportedError extends Error {
  override readonly name = "ModelNotSupportedError";
  readonly code = "model_not_supported";
  constructor(
    readonly model: string,
    readonly supported: readonly string[],
  ) {
    super(`model '${model}' is not supported; supported models: ${supported.join(", ")}`);
  }
}

/** Parses `SUPPORTED_MODELS` (comma-separated) and `DEFAULT_MODEL`; the default must be in the list. */
export function loadModelPolicy(env: { SUPPORTED_MODELS?: string; DEFAULT_MODEL?: string }): ModelPolicy {
  const listed = (env.SUPPORTED_MODELS ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  const supported = listed.length > 0 ? [...new Set(listed)] : [...DEFAULT_SUPPORTED_MODELS];
  const defaultModel = env.DEFAULT_MODEL?.trim() || DEFAULT_MODEL;
  if (!supported.includes(defaultModel)) {
    throw new ModelNotSupportedError(defaultModel, supported);
  }
  return { supported, defaultModel };
}

/** The model to run: the requested one if allowed, the default if none was asked for. */
export function resolveModel(policy: ModelPolicy, requested: string | undefined | null): string {
  if (requested === undefined || requested === null || requested === "") return policy.defaultModel;
  if (!policy.supported.includes(requested)) throw new ModelNotSupportedError(requested, policy.supported);
  return requested;
}
