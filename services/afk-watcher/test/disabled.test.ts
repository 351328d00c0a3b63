import { describeDisabledTick } from "@claude-gateway/afk-adapters/testing";
import { runWatcher } from "../src/start.js";

describeDisabledTick("watcher", runWatcher);
