import { describeDisabledTick } from "@claude-gateway/afk-adapters/testing";
import { runPoller } from "../src/run.js";

describeDisabledTick("poller", runPoller);
