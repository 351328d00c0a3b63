import type { AfkConfig } from "@claude-gateway/afk-core";
import { createForgejoChecks } from "./ci/forgejo.js";
import { createGithubChecks } from "./ci/github.js";
import type { CommitChecks } from "./ci/port.js";
import type { ApiOptions, Fetch } from "./http.js";
import { createSlackDoorbell, type Doorbell } from "./notify/slack.js";
import { createT3Client, type T3Client } from "./t3/client.js";
import { createForgejoTracker } from "./tracker/forgejo.js";
import { createGithubTracker } from "./tracker/github.js";
import type { Tracker } from "./tracker/port.js";

export interface Adapters {
  tracker: Tracker;
  checks: CommitChecks;
  t3: T3Client;
  doorbell: Doorbell;
}

export interface AdapterIo {
  fetch: Fetch;
  now?: () => Date;
  newId?: () => string;
}

/** The real adapters for an armed configuration. Only an armed tick ever calls this. */
export function createAdapters(config: AfkConfig, io: AdapterIo): Adapters {
  const timeoutMs = config.httpTimeoutMs;
  const trackerOptions: ApiOptions = {
    baseUrl: config.tracker.url,
    token: config.tracker.token,
    fetch: io.fetch,
    timeoutMs,
  };
  const github = config.tracker.kind === "github";
  return {
    tracker: github ? createGithubTracker(trackerOptions) : createForgejoTracker(trackerOptions),
    checks: github ? createGithubChecks(trackerOptions) : createForgejoChecks(trackerOptions),
    t3: createT3Client({
      baseUrl: config.t3.url,
      token: config.t3.token,
      fetch: io.fetch,
      timeoutMs,
      ...(io.now ? { now: io.now } : {}),
      ...(io.newId ? { newId: io.newId } : {}),
    }),
    doorbell: createSlackDoorbell({ webhookUrl: config.slackWebhookUrl, fetch: io.fetch, timeoutMs }),
  };
}

export type AdapterFactory = (config: AfkConfig, io: AdapterIo) => Adapters;
