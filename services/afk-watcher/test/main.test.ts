import { describeDisabledMain } from "@claude-gateway/afk-adapters/testing";

describeDisabledMain("watcher", "afk-watcher", new URL("../dist/main.js", import.meta.url));
