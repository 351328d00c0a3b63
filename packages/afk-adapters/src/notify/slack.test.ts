import { afterEach, describe, expect, it } from "vitest";
import { UpstreamHttpError } from "../errors.js";
import { type FakeSlack, startFakeSlack } from "../testing/fake-slack.js";
import { alertMessage, createSlackDoorbell, slackEscape } from "./slack.js";

let slack: FakeSlack;
afterEach(async () => slack?.close());

const alert = {
  subject: "acme/app#7: <b>Login</b> & co",
  url: "https://git.example/acme/app/issues/7",
  reason: "CI red after 3 fix-forwards",
};

describe("Slack doorbell", () => {
  it("posts {text} as JSON with the issue link and the reason", async () => {
    slack = await startFakeSlack();
    await createSlackDoorbell({ webhookUrl: slack.webhookUrl, fetch, timeoutMs: 5000 }).ring(alert);
    expect(slack.messages).toHaveLength(1);
    const text = slack.messages[0]?.text ?? "";
    expect(text).toContain(
      "<https://git.example/acme/app/issues/7|acme/app#7: &lt;b&gt;Login&lt;/b&gt; &amp; co>",
    );
    expect(text).toContain("*Why:* CI red after 3 fix-forwards");
  });

  it("a rejected webhook is an error that does not leak the URL", async () => {
    slack = await startFakeSlack();
    const err = await createSlackDoorbell({
      webhookUrl: `${slack.webhookUrl}-revoked`,
      fetch,
      timeoutMs: 5000,
    })
      .ring(alert)
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err.status).toBe(404);
    expect(err.message).not.toContain("test-secret");
  });

  it.each([
    ["form-encoded", "application/x-www-form-urlencoded", "payload=%7B%7D"],
    ["JSON without text or blocks", "application/json", "{}"],
    ["not JSON", "application/json", "{"],
    ["empty text", "application/json", '{"text":""}'],
  ])("the fake rejects %s", async (_, type, body) => {
    slack = await startFakeSlack();
    const res = await fetch(slack.webhookUrl, { method: "POST", headers: { "content-type": type }, body });
    expect(res.status).toBe(400);
    expect(slack.messages).toEqual([]);
  });

  it("the fake accepts blocks", async () => {
    slack = await startFakeSlack();
    const res = await fetch(slack.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ blocks: [{ type: "section", text: { type: "mrkdwn", text: "hi" } }] }),
    });
    expect(await res.text()).toBe("ok");
  });

  it("escapes Slack's three control characters only", () => {
    expect(slackEscape("a<b>&c*d_")).toBe("a&lt;b&gt;&amp;c*d_");
    expect(alertMessage({ ...alert, details: ["phase ci-running"] }).text).toContain("\nphase ci-running");
  });
});
