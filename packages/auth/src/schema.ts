import { z } from "zod";

/** Names end up in logs, so keep them to a charset that cannot inject lines or markup. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9._@-]+$/;
/** Printable ASCII without spaces or commas: what fits in `Authorization: Bearer <token>` and in the list syntax. */
export const TOKEN_VALUE_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;
/**
 * Anything shorter was typed by hand or can be guessed; `openssl rand -hex 16` gives 32 characters.
 * The same floor applies to every bearer secret a service accepts (callers' tokens, the metrics token).
 */
export const MIN_TOKEN_LENGTH = 16;
/** An RFC 9110 field name. */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The identity headers an Authentik outpost sets (forward-auth mode). */
export const AUTHENTIK_USERNAME_HEADER = "x-authentik-username";
export const AUTHENTIK_EMAIL_HEADER = "x-authentik-email";
export const AUTHENTIK_GROUPS_HEADER = "x-authentik-groups";
export const DEFAULT_AUTHENTIK_SECRET_HEADER = "x-authentik-proxy-secret";

/** A named bearer token. The name is what logs and `c.var.principal` show; the token is secret. */
export const AuthToken = z.object({
  name: z.string().regex(TOKEN_NAME_PATTERN, 'name may only contain letters, digits, ".", "_", "@" and "-"'),
  token: z.string().regex(TOKEN_VALUE_PATTERN, "token must be printable ASCII without spaces or commas"),
});
export type AuthToken = z.infer<typeof AuthToken>;

/** Authentik forward-auth: identity headers count only when `secretHeader` carries `proxySecret`. */
export const AuthentikConfig = z.object({
  proxySecret: z.string().min(1, "proxySecret must not be empty"),
  secretHeader: z.string().superRefine((name, ctx) => {
    const problem = headerNameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  }),
});
export type AuthentikConfig = z.infer<typeof AuthentikConfig>;

export const AuthConfig = z
  .object({ tokens: z.array(AuthToken), authentik: AuthentikConfig.optional() })
  .superRefine((config, ctx) => {
    // Messages already say where (`tokens[1]: …`), so the issues carry no path of their own.
    const located = config.tokens.map((value, i) => ({ value, where: `tokens[${i}]` }));
    for (const { value, where } of located) {
      if (value.token.length < MIN_TOKEN_LENGTH)
        ctx.addIssue({ code: "custom", message: `${where}: ${shortTokenProblem(value.name)}` });
    }
    for (const message of duplicateProblems(located)) ctx.addIssue({ code: "custom", message });
  });
export type AuthConfig = z.infer<typeof AuthConfig>;

/** What is wrong with the token called `name` when it is too short: names the token, never quotes it. */
export function shortTokenProblem(name: string): string {
  return `token of "${name}" is shorter than ${MIN_TOKEN_LENGTH} characters (make one with \`openssl rand -hex 16\`)`;
}

/** Why `name` cannot carry the proxy secret, if it cannot. */
export function headerNameProblem(name: string): string | undefined {
  if (!HEADER_NAME_PATTERN.test(name)) return "not a valid HTTP header name";
  const lower = name.toLowerCase();
  // The secret must travel in a header of its own, or it would become the identity or the bearer token.
  const reserved = [
    "authorization",
    AUTHENTIK_USERNAME_HEADER,
    AUTHENTIK_EMAIL_HEADER,
    AUTHENTIK_GROUPS_HEADER,
  ];
  if (reserved.includes(lower)) return `must not be "${lower}"`;
  return undefined;
}

/** A value with where it came from, for messages such as `AUTH_TOKENS entry 2: …`. */
export interface Located<T> {
  value: T;
  where: string;
}

/**
 * Two entries with one name would make logs ambiguous; two with one token would make the principal
 * depend on list order. Both are reported by location and name, never by token.
 */
export function duplicateProblems(tokens: readonly Located<AuthToken>[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, string>();
  const byToken = new Map<string, Located<AuthToken>>();
  for (const { value, where } of tokens) {
    const sameName = byName.get(value.name);
    if (sameName === undefined) byName.set(value.name, where);
    else problems.push(`${where}: duplicate name "${value.name}" (first at ${sameName})`);
    const sameToken = byToken.get(value.token);
    if (sameToken === undefined) byToken.set(value.token, { value, where });
    else
      problems.push(
        `${where} ("${value.name}"): same token as ${sameToken.where} ("${sameToken.value.name}")`,
      );
  }
  return problems;
}
