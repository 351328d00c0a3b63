import { afterEach, describe, expect, it } from "vitest";
import { type FakeForgejo, startFakeForgejo } from "./fake-forgejo.js";
import { type FakeGithub, startFakeGithub } from "./fake-github.js";

let fake: FakeForgejo | FakeGithub;
afterEach(async () => fake?.close());

async function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
) {
  const res = await fetch(`${fake.url}${path}`, {
    method: init.method ?? "GET",
    headers: init.headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}

describe("fake Forgejo rejects what Forgejo rejects", () => {
  const auth = () => ({ authorization: `token ${fake.token}`, "content-type": "application/json" });
  async function seed() {
    fake = await startFakeForgejo();
    fake.store.addRepo("acme/app");
    fake.store.addIssue("acme/app", { title: "both", labels: ["ready-for-agent", "P1"] });
    fake.store.addIssue("acme/app", { title: "one", labels: ["P1"] });
    fake.store.addIssue("acme/app", { title: "pr", labels: ["ready-for-agent"], isPull: true });
  }

  it("requires the token", async () => {
    await seed();
    expect((await call("/api/v1/repos/acme/app/issues")).status).toBe(401);
    expect(
      (await call("/api/v1/repos/acme/app/issues", { headers: { authorization: "token wrong" } })).status,
    ).toBe(401);
  });

  it("labels= matches ANY label, and lists pull requests unless type=issues", async () => {
    await seed();
    const any = await call("/api/v1/repos/acme/app/issues?labels=ready-for-agent,P1", { headers: auth() });
    expect((any.body as Array<{ title: string }>).map((i) => i.title).sort()).toEqual(["both", "one", "pr"]);
    const issues = await call("/api/v1/repos/acme/app/issues?labels=ready-for-agent&type=issues", {
      headers: auth(),
    });
    expect((issues.body as Array<{ title: string }>).map((i) => i.title)).toEqual(["both"]);
  });

  it("DELETE of a label by name is 422; by numeric id it works", async () => {
    await seed();
    const byName = await call("/api/v1/repos/acme/app/issues/1/labels/ready-for-agent", {
      method: "DELETE",
      headers: auth(),
    });
    expect(byName.status).toBe(422);
    const id = fake.store.labelId("acme/app", "ready-for-agent");
    const byId = await call(`/api/v1/repos/acme/app/issues/1/labels/${id}`, {
      method: "DELETE",
      headers: auth(),
    });
    expect(byId.status).toBe(204);
    expect(fake.store.labelsOf("acme/app", 1)).toEqual(["P1"]);
  });

  it("adding an unknown label id is 422, and a comment needs a body", async () => {
    await seed();
    expect(
      (
        await call("/api/v1/repos/acme/app/issues/1/labels", {
          method: "POST",
          headers: auth(),
          body: { labels: [999999] },
        })
      ).status,
    ).toBe(422);
    expect(
      (await call("/api/v1/repos/acme/app/issues/1/comments", { method: "POST", headers: auth(), body: {} }))
        .status,
    ).toBe(422);
  });

  it("unknown repositories and issues are 404", async () => {
    await seed();
    expect((await call("/api/v1/repos/acme/nope/issues", { headers: auth() })).status).toBe(404);
    expect((await call("/api/v1/repos/acme/app/issues/99", { headers: auth() })).status).toBe(404);
  });
});

describe("fake GitHub rejects what GitHub rejects", () => {
  const auth = () => ({
    authorization: `Bearer ${fake.token}`,
    "user-agent": "test",
    "content-type": "application/json",
  });
  async function seed() {
    fake = await startFakeGithub();
    fake.store.addRepo("acme/app");
    fake.store.addIssue("acme/app", { title: "both", labels: ["ready-for-agent", "P1"] });
    fake.store.addIssue("acme/app", { title: "one", labels: ["P1"] });
    fake.store.addIssue("acme/app", { title: "pr", labels: ["ready-for-agent", "P1"], isPull: true });
  }

  it("requires a User-Agent (403) and credentials (401)", async () => {
    await seed();
    expect(
      (
        await call("/repos/acme/app/issues", {
          headers: { authorization: `Bearer ${fake.token}`, "user-agent": "" },
        })
      ).status,
    ).toBe(403);
    expect((await call("/repos/acme/app/issues", { headers: { "user-agent": "t" } })).status).toBe(401);
  });

  it("labels= matches ALL labels, and pull requests are listed with pull_request", async () => {
    await seed();
    const all = await call("/repos/acme/app/issues?labels=ready-for-agent,P1", { headers: auth() });
    const items = all.body as Array<{ title: string; pull_request?: unknown }>;
    expect(items.map((i) => i.title).sort()).toEqual(["both", "pr"]);
    expect(items.find((i) => i.title === "pr")?.pull_request).toBeDefined();
  });

  it("removing a label the issue does not carry is 404", async () => {
    await seed();
    expect(
      (await call("/repos/acme/app/issues/2/labels/ready-for-agent", { method: "DELETE", headers: auth() }))
        .status,
    ).toBe(404);
  });

  it("a combined status without statuses says pending (GitHub's quirk)", async () => {
    await seed();
    const res = await call("/repos/acme/app/commits/abc/status", { headers: auth() });
    expect(res.body).toMatchObject({ state: "pending", total_count: 0, statuses: [] });
  });
});
