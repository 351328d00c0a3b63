/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate callbacks run in the browser.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventually, text, toolUse } from "@claude-gateway/testkit";
import pino from "pino";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningBreakglass, startBreakglass } from "../src/start.js";
import { type CliWorld, startCliWorld } from "./support/cli-world.js";
import { processesMentioning } from "./support/procs.js";

/**
 * The built UI in a real Chromium, against the real server, the real CLI on the Messages stub,
 * and a fake ssh client standing in for the two hosts. Screenshots go to test-artifacts/.
 */

const PKG = fileURLToPath(new URL("..", import.meta.url));
const UI_DIR = join(PKG, "dist", "ui");
const ARTIFACTS = join(PKG, "test-artifacts");
const TOKEN = "phone-token-0123456789";
/** An unknown switch Chromium ignores: finds its processes after the test. */
const MARKER = `--breakglass-ui-test=${randomUUID()}`;

let world: CliWorld;
let bg: RunningBreakglass;
let browser: Browser;
let sshLog: string;

beforeAll(async () => {
  if (!existsSync(join(UI_DIR, "index.html")))
    throw new Error("the UI is not built: run the package's build first");
  await mkdir(ARTIFACTS, { recursive: true });
  // Answers like the hosts would: the last two arguments are the alias and the command.
  world = await startCliWorld(
    "bg-ui-",
    (dir) => `#!/bin/sh
for last; do :; done
echo "$*" >> '${join(dir, "ssh.log")}'
case "$last" in
  status) printf 'status: running\\ncpus: 4\\nmaxmem: 8589934592\\nqmpstatus: running\\nuptime: 273018\\npve-verb: status done (VM 102)\\n' ;;
  forensics) i=0; while [ $i -lt 120 ]; do echo "line $i of the task log"; i=$((i+1)); done ;;
  uptime) echo " 10:00:00 up 3 days,  2:03,  0 users,  load average: 0.08, 0.03, 0.01" ;;
  *) echo "pve-verb: $last done (VM 102)" ;;
esac
`,
  );
  sshLog = join(world.dir, "ssh.log");
  bg = await startBreakglass(
    loadConfig({
      ...world.env,
      AUTH_TOKENS: `owner=${TOKEN}`,
      SSH_DEVVM_HOST: "devvm.internal",
      SSH_PVE_HOST: "pve.internal",
    }),
    { claudeEnv: world.cli.env, hostname: "127.0.0.1", logger: pino({ level: "silent" }), uiDir: UI_DIR },
  );
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      MARKER,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await bg?.stop();
  expect(await processesMentioning(MARKER)).toEqual([]);
  await world?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

async function open(
  viewport: { width: number; height: number },
  phone: boolean,
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    viewport,
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
  });
  const page = await ctx.newPage();
  await page.goto(bg.url);
  // Bearer auth: the first API call answers 401 and the UI asks for a token.
  const tokenBox = page.getByRole("textbox", { name: "Access token" });
  await tokenBox.waitFor();
  if (phone) await shot(page, "phone-token");
  await tokenBox.fill(TOKEN);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
  return { ctx, page };
}

/** The element's box lies inside the viewport. */
async function inViewport(page: Page, selector: string) {
  const box = await page.locator(selector).boundingBox();
  const vp = page.viewportSize()!;
  expect(box, selector).not.toBeNull();
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height).toBeLessThanOrEqual(vp.height + 0.5);
  expect(box!.x + box!.width).toBeLessThanOrEqual(vp.width + 0.5);
}

/** Sends a message and checks the reply arrives in pieces, as it streams. */
async function chat(page: Page, message: string, reply: string) {
  world.stub.reset();
  world.stub.enqueue(
    toolUse(
      "Bash",
      { command: "ssh devvm uptime", description: "Is the guest up?" },
      { preamble: "Checking the guest first." },
    ),
    text(reply, { chunkSize: 6, delayMs: 40 }),
  );
  // Record every length the reply's text passes through.
  await page.evaluate(() => {
    const w = window as unknown as { lengths: number[] };
    w.lengths = [];
    new MutationObserver(() => {
      const turns = document.querySelectorAll('[data-role="assistant"]');
      const texts = turns[turns.length - 1]?.querySelectorAll(".text") ?? [];
      w.lengths.push([...texts].reduce((n, t) => n + (t.textContent?.length ?? 0), 0));
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByLabel("Message").fill(message);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  // While the turn runs the composer offers Stop instead of Send.
  await page.getByRole("button", { name: "Stop", exact: true }).waitFor();
  const last = page.locator('[data-role="assistant"]').last();
  // Said before the tool call, the call, said after it: in that order.
  await expect
    .poll(() => last.locator(".text").allTextContents(), { timeout: 60_000 })
    .toEqual(["Checking the guest first.", reply]);
  expect(
    await last.locator(".text, .tool").evaluateAll((els) => els.map((e) => e.className.split(" ")[0])),
  ).toEqual(["text", "tool", "text"]);
  await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
  const lengths = await page.evaluate(() => (window as unknown as { lengths: number[] }).lengths);
  expect(new Set(lengths).size, "the text grew in several steps").toBeGreaterThan(3);
  // The tool call is shown compactly with its command; its output folds.
  await expect.poll(() => last.locator(".tool .brief").first().textContent()).toBe("ssh devvm uptime");
  expect(await last.locator(".tool").first().getAttribute("data-state")).toBe("ok");
  expect(await last.locator(".meta").textContent()).toMatch(/^\$0\.\d{4} · [\d.]+ s$/);
}

async function checkTargets(page: Page) {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll("button, summary, textarea, input")]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return (
          r.width > 0 &&
          r.height > 0 &&
          s.visibility !== "hidden" &&
          !el.closest("[inert]") &&
          el.getAttribute("tabindex") !== "-1"
        );
      })
      .filter((el) => el.getBoundingClientRect().height < 40)
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(small, "touch targets under 40px").toEqual([]);
}

describe("the web UI", () => {
  it("on a phone (390×844): composer in view, streamed reply, VM sheet, folding, confirmed reset", async () => {
    const { ctx, page } = await open({ width: 390, height: 844 }, true);
    try {
      // The shell fills the dynamic viewport; the composer is pinned and visible; 16px input.
      expect(
        await page.evaluate(() => document.querySelector(".layout")!.getBoundingClientRect().height),
      ).toBe(844);
      await inViewport(page, ".composer");
      await inViewport(page, "textarea");
      expect(await page.locator("textarea").evaluate((el) => getComputedStyle(el).fontSize)).toBe("16px");
      await expect.poll(() => page.locator(".vm-button .dot.on").count()).toBe(1);
      await checkTargets(page);
      await shot(page, "phone-empty");

      await chat(page, "Is the dev VM up?", "The VM is up: 3 days, load is low. Nothing to repair.");
      await inViewport(page, ".composer");
      // The chat scrolls inside its own pane, not the page.
      expect(await page.evaluate(() => document.scrollingElement!.scrollHeight)).toBeLessThanOrEqual(844);
      await page.locator(".tool summary").first().click();
      await shot(page, "phone-chat");

      // The VM controls: a bottom sheet behind the header's VM button.
      const sheet = page.locator("#vm-sheet");
      expect(await sheet.evaluate((el) => getComputedStyle(el).visibility)).toBe("hidden");
      await page.getByRole("button", { name: "VM controls" }).click();
      await expect.poll(() => sheet.evaluate((el) => getComputedStyle(el).visibility)).toBe("visible");
      await expect
        .poll(async () => (await sheet.boundingBox())!.y + (await sheet.boundingBox())!.height)
        .toBeLessThanOrEqual(844.5);
      await page.locator(".backdrop").waitFor();
      await page.locator(".grab").waitFor();
      await checkTargets(page);

      // Inspect and Power start open; Power folds and unfolds.
      const power = page.locator("details.section", { has: page.locator("summary", { hasText: "Power" }) });
      const inspect = page.locator("details.section", {
        has: page.locator("summary", { hasText: "Inspect" }),
      });
      expect(await inspect.getAttribute("open")).not.toBeNull();
      expect(await power.getAttribute("open")).not.toBeNull();
      await power.locator("summary").click();
      await expect.poll(() => power.getAttribute("open")).toBeNull();
      expect(await page.locator('[data-verb="reset"]').isVisible()).toBe(false);
      await shot(page, "phone-sheet-power-folded");
      await power.locator("summary").click();
      await expect.poll(() => power.getAttribute("open")).not.toBeNull();

      // A read-only verb runs at once; its output folds, capped at 46vh with its own scroll.
      await page.locator('[data-verb="forensics"]').click();
      const output = page.locator("details.output");
      await expect.poll(() => output.locator("summary").textContent()).toMatch(/Output · forensics\s+exit 0/);
      const pre = output.locator("pre");
      expect(await pre.evaluate((el) => getComputedStyle(el).maxHeight)).toBe(`${0.46 * 844}px`);
      expect(await pre.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
      await shot(page, "phone-sheet-output");

      // Reset asks first: nothing runs until it is confirmed.
      const before = (await readFile(sshLog, "utf8")).split("\n").filter(Boolean).length;
      await page.locator('[data-verb="reset"]').click();
      const confirm = page.getByRole("alertdialog");
      await confirm.waitFor();
      expect(await confirm.textContent()).toContain("Unsaved writes in the guest are lost");
      expect((await readFile(sshLog, "utf8")).split("\n").filter(Boolean).length).toBe(before);
      await shot(page, "phone-reset-confirm");
      await page.locator('[data-confirm="reset"]').click();
      await expect.poll(() => output.locator("summary").textContent()).toMatch(/Output · reset\s+exit 0/);
      expect((await readFile(sshLog, "utf8")).trim().split("\n").at(-1)).toMatch(/-- pve reset$/);

      // Escape (or the close button) puts the sheet away.
      await page.locator("#vm-sheet .close").click();
      await expect.poll(() => sheet.evaluate((el) => getComputedStyle(el).visibility)).toBe("hidden");
    } finally {
      await ctx.close();
    }
  });

  it("on a desktop (1280×800): the VM controls are a side column and the button is gone", async () => {
    const { ctx, page } = await open({ width: 1280, height: 800 }, false);
    try {
      expect(await page.getByRole("button", { name: "VM controls" }).isVisible()).toBe(false);
      const sheet = page.locator("#vm-sheet");
      const box = (await sheet.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(1280 - 381);
      expect(box.height).toBe(800);
      expect(await sheet.evaluate((el) => getComputedStyle(el).position)).toBe("static");
      await inViewport(page, ".composer");
      await checkTargets(page);

      await chat(page, "Diagnose the VM, please.", "The guest answers and nothing failed since boot.");
      const power = page.locator("details.section", { has: page.locator("summary", { hasText: "Power" }) });
      await power.locator("summary").click();
      await expect.poll(() => power.getAttribute("open")).toBeNull();
      await power.locator("summary").click();
      await page.locator('[data-verb="status"]').click();
      await expect
        .poll(() => page.locator("details.output summary").textContent())
        .toMatch(/Output · status\s+exit 0/);
      await page.locator('[data-verb="reset"]').click();
      await page.getByRole("alertdialog").waitFor();
      await shot(page, "desktop-reset-confirm");
      await page.getByRole("button", { name: "Cancel" }).click();
      await expect.poll(() => page.getByRole("alertdialog").count()).toBe(0);
      await shot(page, "desktop-chat");
    } finally {
      await ctx.close();
    }
  });

  it("a stopped turn shows its error event: Stopped, and the detail", async () => {
    const { ctx, page } = await open({ width: 390, height: 844 }, true);
    try {
      world.stub.reset();
      // Long enough to be stopped mid-way.
      world.stub.enqueue(text("Still looking. ".repeat(40), { chunkSize: 3, delayMs: 100 }));
      await page.getByLabel("Message").fill("Take your time.");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const last = page.locator('[data-role="assistant"]').last();
      await expect.poll(() => last.locator(".text").count(), { timeout: 60_000 }).toBeGreaterThan(0);
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      const alert = last.getByRole("alert");
      await alert.waitFor({ timeout: 30_000 });
      expect(await alert.textContent()).toMatch(/^Stopped: run cancelled/);
      await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
    } finally {
      await ctx.close();
    }
  });

  it("a reload re-syncs the conversation from the server", async () => {
    const { ctx, page } = await open({ width: 390, height: 844 }, true);
    try {
      await chat(page, "Is the dev VM up?", "Yes, it is up.");
      await page.reload();
      await eventually(async () => (await page.locator('[data-role="user"]').count()) === 1, {
        what: "history after reload",
      });
      expect(await page.locator('[data-role="assistant"] .text').allTextContents()).toEqual([
        "Checking the guest first.",
        "Yes, it is up.",
      ]);
    } finally {
      await ctx.close();
    }
  });

  it("a permission prompt: a danger card at 390×844 with the composer pinned, announced when scrolled away; Deny sends the note, Allow runs", async () => {
    const { ctx, page } = await open({ width: 390, height: 844 }, true);
    const lines = async () => (await readFile(sshLog, "utf8").catch(() => "")).split("\n").filter(Boolean);
    try {
      world.stub.reset();
      const evidence = Array.from(
        { length: 40 },
        (_, i) => `Evidence ${i + 1}: the guest does not answer.`,
      ).join("\n");
      world.stub.enqueue(
        toolUse(
          "Bash",
          { command: "ssh pve reset", description: "Hard reset" },
          { preamble: `${evidence}\nI will reset it.` },
        ),
        text("Understood: no reset. Collecting forensics instead."),
      );
      const before = (await lines()).length;
      await page.getByLabel("Message").fill("The VM is frozen.");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const card = page.locator("[data-permission]").last();
      await card.waitFor({ timeout: 60_000 });
      expect(await card.getAttribute("data-risk")).toBe("mutating");
      expect(await card.getAttribute("data-decision")).toBe("pending");
      const code = card.locator(".command code");
      expect(await code.textContent()).toBe("ssh pve reset");
      expect(await code.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono|Menlo|Consolas/i);
      for (const name of ["Allow", "Deny"]) {
        const box = (await card.getByRole("button", { name, exact: true }).boundingBox())!;
        expect(box.height, name).toBeGreaterThanOrEqual(44);
        expect(box.width, name).toBeGreaterThanOrEqual(44);
      }
      await card.scrollIntoViewIfNeeded();
      await inViewport(page, "[data-permission] .actions");
      await inViewport(page, ".composer");
      await checkTargets(page);
      await shot(page, "phone-permission");

      // Scrolled away, the header says a prompt waits; its button brings the card back.
      await page.locator("main.chat").evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event("scroll"));
      });
      const announce = page.locator("header .pending");
      await announce.waitFor();
      expect(await announce.textContent()).toContain("Approval needed");
      await inViewport(page, "header .pending");
      await inViewport(page, ".vm-button");
      await inViewport(page, ".composer button");
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);
      await shot(page, "phone-permission-announced");
      await announce.click();
      await expect
        .poll(async () => (await card.boundingBox())!.y + 10 < 844 && (await card.boundingBox())!.y > 0)
        .toBe(true);

      // Deny with a note: nothing runs, and the agent gets the note.
      await card.getByLabel("Note for the agent").fill("collect forensics first");
      await card.getByRole("button", { name: "Deny", exact: true }).click();
      await expect.poll(() => card.getAttribute("data-decision")).toBe("deny");
      expect(await card.locator(".outcome").textContent()).toBe("Denied by owner: collect forensics first");
      await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
      expect((await lines()).length).toBe(before);
      expect(JSON.stringify(world.stub.turnRequests()[1]?.body.messages?.at(-1))).toContain(
        "collect forensics first",
      );

      // Allow: the reset runs through the wrapper.
      world.stub.reset();
      world.stub.enqueue(
        toolUse("Bash", { command: "ssh pve reset", description: "Hard reset" }),
        text("Reset done."),
      );
      await page.getByLabel("Message").fill("Reset it now.");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const second = page.locator('[data-permission][data-decision="pending"]');
      await second.waitFor({ timeout: 60_000 });
      await second.getByRole("button", { name: "Allow", exact: true }).click();
      await expect
        .poll(() => page.locator("[data-permission]").last().getAttribute("data-decision"))
        .toBe("allow");
      await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
      expect((await lines()).at(-1)).toMatch(/-- pve reset$/);
      await shot(page, "phone-permission-answered");
    } finally {
      await ctx.close();
    }
  });

  it("a permission prompt on a desktop (1280×800): a VM command, Allow runs it", async () => {
    const { ctx, page } = await open({ width: 1280, height: 800 }, false);
    try {
      world.stub.reset();
      world.stub.enqueue(
        toolUse("Bash", { command: "ssh devvm 'systemctl restart nginx'", description: "restart" }),
        text("nginx restarted."),
      );
      await page.getByLabel("Message").fill("nginx is down.");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const card = page.locator("[data-permission]").last();
      await card.waitFor({ timeout: 60_000 });
      expect(await card.getAttribute("data-risk")).toBe("remote-shell");
      expect(await card.locator(".command code").textContent()).toBe("ssh devvm 'systemctl restart nginx'");
      await inViewport(page, "[data-permission] .actions");
      await inViewport(page, ".composer");
      await shot(page, "desktop-permission");
      await card.getByRole("button", { name: "Allow", exact: true }).click();
      await expect.poll(() => card.getAttribute("data-decision")).toBe("allow");
      await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
      expect((await readFile(sshLog, "utf8")).trim().split("\n").at(-1)).toMatch(
        /-- devvm systemctl restart nginx$/,
      );
    } finally {
      await ctx.close();
    }
  });
});
