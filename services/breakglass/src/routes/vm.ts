import { errorBody, toServiceError } from "@claude-gateway/service-kit";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { confirmationProblem, parseVerb, VERBS } from "../core/verbs.js";
import type { Env } from "../env.js";
import { BadRequestError } from "../errors.js";
import type { VmService } from "../vm.js";
import { limitBody, readOptionalJson } from "./body.js";

const unknownVerb = (got: string) =>
  new BadRequestError("unknown_verb", `unknown verb ${JSON.stringify(got)}; verbs: ${VERBS.join(", ")}`);

/** `/api/vm`: what the VM controls can do, and the power verbs. */
export function vmRoutes(vm: VmService, opts: { keepaliveMs: number }) {
  const r = new Hono<Env>();
  r.get("/", (c) => c.json(vm.info()));

  r.post("/:verb", limitBody(1024), async (c) => {
    // The whitelist comes first: nothing else is looked at, and no process starts, for anything else.
    const verb = parseVerb(c.req.param("verb"));
    if (!verb) throw unknownVerb(c.req.param("verb"));
    const problem = confirmationProblem(verb, await readOptionalJson(c));
    if (problem) throw new BadRequestError("confirmation_required", problem);
    const caller = c.get("principal").name;
    const running = vm.run(verb, caller);
    // A cycle can take minutes: spaces (valid JSON whitespace) keep proxies from timing out.
    c.header("content-type", "application/json; charset=utf-8");
    c.header("x-accel-buffering", "no");
    return stream(c, async (s) => {
      const ping = setInterval(() => void s.write(" "), opts.keepaliveMs);
      try {
        await s.write(JSON.stringify(await running));
      } catch (err) {
        // The status is sent already: the envelope goes in the body, as `app.onError` would shape it.
        const failure = toServiceError(err);
        if (failure.status >= 500) {
          c.get("log")[failure.status === 500 ? "error" : "warn"](
            { err, verb, code: failure.code },
            "vm verb failed",
          );
        }
        await s.write(JSON.stringify(errorBody(failure)));
      } finally {
        clearInterval(ping);
      }
    });
  });
  // Anything that is not exactly one path segment naming a verb.
  r.all("/*", (c) => {
    throw unknownVerb(c.req.path.replace(/^\/api\/vm\/?/, ""));
  });
  return r;
}
