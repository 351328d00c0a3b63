/** Lines as the CLI prints them (`--output-format stream-json`), for the parse and translate tests. */

/** An API call failed and the CLI will retry it (529: overloaded). */
export const apiRetryLine = {
  type: "system",
  subtype: "api_retry",
  attempt: 1,
  max_retries: 2,
  retry_delay_ms: 500,
  error_status: 529,
  error: "overloaded",
};

/**
 * A subscription login's plan utilisation after a served request, as CLI 2.1.332 prints it from the
 * API's `anthropic-ratelimit-unified-*` headers (README: "Plan utilisation").
 */
export const rateLimitAllowedLine = {
  type: "rate_limit_event",
  rate_limit_info: {
    status: "allowed",
    resetsAt: 1796418078,
    rateLimitType: "five_hour",
    overageStatus: "rejected",
    overageDisabledReason: "org_level_disabled",
    isUsingOverage: false,
    unifiedWindows: {
      five_hour: { utilization: 0.42, resetsAt: 1796418078, status: "allowed" },
      seven_day: { utilization: 0.17, resetsAt: 1796673678, status: "allowed" },
    },
  },
  uuid: "0b564b24-777c-4d40-b19b-82ec944c85b6",
  session_id: "6887596e-fb3c-4d1a-8c89-520c6bed662e",
};

/** The same plan at its five-hour limit: the API answered 429 and the CLI did not retry. */
export const rateLimitRejectedLine = {
  type: "rate_limit_event",
  rate_limit_info: {
    status: "rejected",
    resetsAt: 1796418101,
    rateLimitType: "five_hour",
    overageStatus: "rejected",
    overageDisabledReason: "org_level_disabled",
    isUsingOverage: false,
    unifiedWindows: {
      five_hour: { utilization: 1, resetsAt: 1796418101, status: "rejected" },
      seven_day: { utilization: 0.17, resetsAt: 1796673701, status: "allowed" },
    },
  },
  uuid: "f9706531-b721-4f4f-ac39-bb35ae7df483",
  session_id: "680f69ce-4b51-4504-87d3-50948cb06121",
};

/** A 429 without the plan headers (the API's own throttling, which the CLI retries). */
export const rateLimitThrottledLine = {
  type: "rate_limit_event",
  rate_limit_info: { status: "rejected", isUsingOverage: false },
  uuid: "571c2bb9-c687-4804-9a9b-72b76ac447a8",
  session_id: "7bd30869-ea2f-4bdb-b324-f9db4291d2d8",
};
