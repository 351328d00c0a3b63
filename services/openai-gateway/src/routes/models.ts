import type { ModelPolicy } from "@claude-gateway/contracts";
import { Hono } from "hono";
import { ModelNotFoundError } from "../core/errors.js";
import { modelList, modelObject } from "../core/models.js";
import type { AppEnv } from "../http.js";

/** `GET /models` and `GET /models/:id`: the allowlist. */
export function modelRoutes(deps: { models: ModelPolicy; created: number }): Hono<AppEnv> {
  const models = new Hono<AppEnv>();
  models.get("/models", (c) => c.json(modelList(deps.models.supported, deps.created)));
  models.get("/models/:id", (c) => {
    const id = c.req.param("id");
    if (!deps.models.supported.includes(id)) {
      throw new ModelNotFoundError(
        `The model '${id}' does not exist here; supported models: ${deps.models.supported.join(", ")}`,
        404,
      );
    }
    return c.json(modelObject(id, deps.created));
  });
  return models;
}
