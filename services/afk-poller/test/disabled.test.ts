import { describeDisabledTick } from "@claude-gateway/afk-adapters/testing";
import { runPoller } from "../src/start.js";

describeDisabledTick("poller", runPoller);
