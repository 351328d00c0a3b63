import { type FakeForgejo, startFakeForgejo } from "./fake-forgejo.js";
import { type FakeGithub, startFakeGithub } from "./fake-github.js";
import { type FakeSlack, startFakeSlack } from "./fake-slack.js";
import { type FakeT3, type FakeT3Version, startFakeT3 } from "./fake-t3.js";
import { TrackerStore } from "./tracker-store.js";

/** A test clock every fake and tick shares, moved by hand: no sleeps. */
export interface TestClock {
  now: () => Date;
  set(iso: string): void;
  advanceMinutes(minutes: number): void;
}

export function testClock(start = "2026-03-02T10:00:00.000Z"): TestClock {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    set: (iso) => {
      t = Date.parse(iso);
    },
    advanceMinutes: (minutes) => {
      t += minutes * 60_000;
    },
  };
}

export interface AfkWorld {
  clock: TestClock;
  t3: FakeT3;
  tracker: FakeForgejo | FakeGithub;
  store: TrackerStore;
  slack: FakeSlack;
  /** An armed environment pointing at the fakes (override anything). */
  env(over?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/** Every fake the ticks talk to, on 127.0.0.1, sharing one clock. */
export async function startAfkWorld(
  options: { tracker?: "forgejo" | "github"; t3Version?: FakeT3Version; repos?: string[] } = {},
): Promise<AfkWorld> {
  const clock = testClock();
  const kind = options.tracker ?? "forgejo";
  const store = new TrackerStore(clock.now);
  const repos = options.repos ?? ["acme/app", "acme/api"];
  for (const repo of repos) store.addRepo(repo);
  const [t3, tracker, slack] = await Promise.all([
    startFakeT3({ version: options.t3Version ?? "v0.0.27", now: clock.now }),
    kind === "github" ? startFakeGithub({ store }) : startFakeForgejo({ store }),
    startFakeSlack(),
  ]);
  return {
    clock,
    t3,
    tracker,
    store,
    slack,
    env: (over = {}) => ({
      AFK_KILL_SWITCH: "off",
      AFK_REPO_ALLOWLIST: repos.join(","),
      AFK_TRACKER: kind,
      AFK_TRACKER_URL: tracker.url,
      AFK_TRACKER_TOKEN: tracker.token,
      T3_URL: t3.url,
      T3_TOKEN: t3.token,
      T3_WORKSPACE_ROOT: "/srv/src/{repo}",
      SLACK_WEBHOOK_URL: slack.webhookUrl,
      LOG_LEVEL: "silent",
      ...over,
    }),
    async close() {
      await Promise.all([t3.close(), tracker.close(), slack.close()]);
    },
  };
}
