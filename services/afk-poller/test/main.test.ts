import { describeDisabledMain } from "@claude-gateway/afk-adapters/testing";

describeDisabledMain("poller", "afk-poller", new URL("../dist/main.js", import.meta.url));
