import { describeDisabledTick } from "@claude-gateway/afk-adapters/testing";
import { runWatcher } from "../src/run.js";

describeDisabledTick("watcher", runWatcher);
