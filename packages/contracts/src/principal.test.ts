import { describe, expect, it } from "vitest";
import { PrincipalId, parsePrincipalId, principalId } from "./principal.js";

describe("principalId", () => {
  it.each<[Parameters<typeof principalId>[0], string, string]>([
    ["tok", "ci", "tok_ci"],
    ["tok", "billing-svc", "tok_billing-svc"],
    ["ak", "ada@example.com", "ak_ada_40example_2ecom"],
    ["nats", "a.b*c>d e", "nats_a_2eb_2ac_3ed_20e"],
    ["tok", "under_score", "tok_under_5fscore"],
    ["ak", "Иван", "ak__d0_98_d0_b2_d0_b0_d0_bd"],
  ])("%s %j → %s", (kind, name, id) => {
    expect(principalId(kind, name)).toBe(id);
    expect(PrincipalId.safeParse(id).success).toBe(true);
    expect(parsePrincipalId(id)).toEqual({ kind, name });
  });

  it("is a valid NATS subject token and KV key: no dots, wildcards, spaces", () => {
    for (const name of ["a.b", "*", ">", "a b", "a\tb", "a/b", "x=y"]) {
      expect(principalId("tok", name)).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it("kinds never collide", () => {
    expect(principalId("tok", "ada")).not.toBe(principalId("ak", "ada"));
    // A token named like an encoded Authentik user stays distinct: its own '_' is encoded.
    expect(principalId("tok", "ak_ada")).toBe("tok_ak_5fada");
  });

  it("refuses what is not a principal", () => {
    for (const bad of ["", "ci", "root_ci", "tok_", "tok_a.b", "tok_a_zz", "tok_a b"]) {
      expect(PrincipalId.safeParse(bad).success, bad).toBe(false);
    }
    expect(() => principalId("tok", "")).toThrow(RangeError);
  });
});
