import { principalOfSubject } from "@claude-gateway/contracts";
import { ServiceError } from "@claude-gateway/service-kit/errors";

/**
 * The caller of a request that arrived on a per-caller subject (`agent.v1.jobs.submit.<principal>`):
 * the subject's last token, which the server's permissions let only that caller (or one of our own
 * services acting for a caller it authenticated) publish to. A payload that names someone else is
 * refused (403 `caller_mismatch`): the payload never decides who a request is from.
 */
export function callerOfRequest(subject: string, claimed: string | undefined): string {
  const principal = principalOfSubject(subject);
  if (principal === undefined) {
    throw new ServiceError(400, "invalid_request", `'${subject}' names no caller`);
  }
  if (claimed !== undefined && claimed !== principal) {
    throw new ServiceError(
      403,
      "caller_mismatch",
      `the subject is for ${principal}; the payload names ${claimed}`,
    );
  }
  return principal;
}
