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
