import { z } from "zod";

/**
 * Who a request is from, as one string used everywhere — job and conversation records, metric
 * labels, KV keys, NATS subject tokens: `<kind>_<name>`. Kinds: `tok` (a bearer token's name),
 * `ak` (an Authentik user), `nats` (a NATS user). The name keeps `[A-Za-z0-9-]` and writes every
 * other UTF-8 byte as `_xx` (lowercase hex), so a principal never holds `.`, `*`, `>`, spaces or
 * `_` of its own: it is a valid subject token and KV key, and two kinds can never collide
 * (`tok_ada` is not `ak_ada`).
 */
export const PRINCIPAL_KINDS = ["tok", "ak", "nats"] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

const encoder = new TextEncoder();

/** The principal of a caller `name` authenticated as `kind`. */
export function principalId(kind: PrincipalKind, name: string): string {
  if (name === "") throw new RangeError("a principal needs a name");
  let out = "";
  for (const byte of encoder.encode(name)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return `${kind}_${out}`;
}

/** A principal as it appears on the wire: `<kind>_` then encoded name bytes. */
export const PrincipalId = z
  .string()
  .max(512)
  .regex(/^(tok|ak|nats)_(?:[A-Za-z0-9-]|_[0-9a-f]{2})+$/, "not a principal (<kind>_<encoded name>)");
export type PrincipalId = z.infer<typeof PrincipalId>;

/** The kind and the decoded name of a principal. */
export function parsePrincipalId(id: string): { kind: PrincipalKind; name: string } {
  if (!PrincipalId.safeParse(id).success) throw new RangeError(`'${id}' is not a principal`);
  const cut = id.indexOf("_");
  const kind = id.slice(0, cut) as PrincipalKind;
  const bytes: number[] = [];
  const rest = id.slice(cut + 1);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "_") {
      bytes.push(Number.parseInt(rest.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(rest.charCodeAt(i));
    }
  }
  return { kind, name: new TextDecoder().decode(new Uint8Array(bytes)) };
}
