/**
 * The id a client sees for one of the model's calls of its tools: `call_<job id>_<API id>`, the job
 * id as 32 lowercase hex digits (its UUID without dashes). The client sends the id back with the
 * call's result, and the id alone names the paused job: the gateway keeps no state between the
 * requests. It is made of `[A-Za-z0-9_-]` only, which OpenAI's and Anthropic's clients both accept.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The API's tool_use ids (`toolu_01Ab…`); `ToolResult.id` takes at most 256 characters. */
const API_ID = /^[A-Za-z0-9_-]{1,256}$/;
const CLIENT_CALL_ID = /^call_([0-9a-f]{32})_([A-Za-z0-9_-]{1,256})$/;

/** The id the client gets for call `apiId` of job `jobId` (a lowercase UUID). */
export function clientCallId(jobId: string, apiId: string): string {
  if (!UUID.test(jobId)) throw new Error(`job id '${jobId}' is not a lowercase UUID`);
  // The API's ids are made of these characters; anything else would not be a valid id for clients.
  if (!API_ID.test(apiId)) throw new Error(`tool call id '${apiId}' has characters a client id cannot`);
  return `call_${jobId.replaceAll("-", "")}_${apiId}`;
}

/** The job and the API's call id of a client call id this gateway gave out; undefined for any other. */
export function parseClientCallId(id: string): { jobId: string; apiId: string } | undefined {
  const m = CLIENT_CALL_ID.exec(id);
  if (!m) return undefined;
  const hex = m[1] ?? "";
  const jobId = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join(
    "-",
  );
  return { jobId, apiId: m[2] ?? "" };
}
