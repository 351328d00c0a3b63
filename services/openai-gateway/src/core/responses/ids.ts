/**
 * The ids of a Responses API answer. One uuid per request names everything: the response
 * (`resp_<uuid>`), its output message (`msg_<hex>`) and the job (client id `resp-<uuid>`, the
 * caller's own, so `jobIdFor(caller, "resp-<uuid>")` finds it again for `previous_response_id` and
 * `GET /v1/responses/{id}`). A function call item is named by the API's id of its call.
 */

/** The job id prefix of a response's job (`serveJobRequest` builds `resp-<uuid>`). */
export const RESPONSE_JOB_PREFIX = "resp";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const responseIdOf = (uuid: string) => `resp_${uuid}`;
export const messageIdOf = (uuid: string) => `msg_${uuid.replaceAll("-", "")}`;
export const jobClientIdOf = (uuid: string) => `${RESPONSE_JOB_PREFIX}-${uuid}`;
/** A function call item's id, from the API's id of the call (unique, whichever response has it). */
export const functionCallIdOf = (apiId: string) => `fc_${apiId}`;

/** The uuid of a response id this gateway could have given (`resp_<uuid>`), or undefined. */
export function uuidOfResponseId(id: string): string | undefined {
  const uuid = id.startsWith("resp_") ? id.slice("resp_".length) : "";
  return UUID.test(uuid) ? uuid : undefined;
}

/** The uuid of a response's job, from its client id (`resp-<uuid>`), or undefined for other jobs. */
export function uuidOfJobClientId(clientId: string | undefined): string | undefined {
  const prefix = `${RESPONSE_JOB_PREFIX}-`;
  const uuid = clientId?.startsWith(prefix) ? clientId.slice(prefix.length) : "";
  return UUID.test(uuid) ? uuid : undefined;
}
