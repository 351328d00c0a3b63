/** The allowlist in OpenAI's model-list shape. */
export interface ModelObject {
  id: string;
  object: "model";
  /** Unix seconds; the allowlist has no dates, so the gateway's start. */
  created: number;
  owned_by: "anthropic";
}

export function modelObject(id: string, created: number): ModelObject {
  return { id, object: "model", created, owned_by: "anthropic" };
}

export function modelList(ids: readonly string[], created: number): { object: "list"; data: ModelObject[] } {
  return { object: "list", data: ids.map((id) => modelObject(id, created)) };
}
