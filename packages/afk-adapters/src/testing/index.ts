export { type LogLine, recordingLogger } from "@claude-gateway/testkit";
export { describeDisabledMain, describeDisabledTick } from "./disabled-tick.js";
export { type FakeForgejo, startFakeForgejo } from "./fake-forgejo.js";
export { type FakeGithub, startFakeGithub } from "./fake-github.js";
export { type FakeSlack, startFakeSlack } from "./fake-slack.js";
export {
  type AgentScript,
  type FakeT3,
  type FakeT3Options,
  type FakeT3Outage,
  type FakeT3ThreadEndpoint,
  type FakeT3Version,
  startFakeT3,
} from "./fake-t3.js";
export { type ForbiddenFetch, forbiddenFetch } from "./guarded-fetch.js";
export { type Listening, listen, type SeenRequest } from "./serve.js";
export {
  AFK_LABELS,
  type FakeCheckRun,
  type FakeComment,
  type FakeIssue,
  type FakeLabel,
  type FakeRepo,
  type FakeStatus,
  TrackerStore,
} from "./tracker-store.js";
export { type AfkWorld, startAfkWorld, type TestClock, testClock } from "./world.js";
