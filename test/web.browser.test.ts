// The web view in a real browser (Debian's chromium, headless, via puppeteer-core) against a coordinator
// with its embedded broker and a simulated fleet of 50, plus one hand-made node whose hostname and label
// are an XSS payload and which goes silent mid-test. Screenshots of each view go to test-output/web/.
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { encode, topicsFor } from "../proto/index.ts";
import { type Simulation, startSimulation } from "../simulator/index.ts";
import { chromiumAvailable, launchBrowser, SCREENSHOTS } from "./support/browser.ts";
import { birth, status, telemetry } from "./support/fleet-messages.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const root = "web-test/v1";
const topics = topicsFor(root);
const INTERVAL_MS = 500;
const XSS = `<img src=x onerror="window.__xss=1">`;
const XSS_ID = "xss-node";

const haveChromium = chromiumAvailable();

// The few DOM shapes read inside page functions (the project compiles without the DOM library).
type Text = { textContent: string | null };
type Canvas = {
  width: number;
  height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
};

describe.skipIf(!haveChromium)("web view in headless chromium", () => {
  let service: CoordinatorService;
  let sim: Simulation;
  let browser: Browser;
  let page: Page;
  let agent: MqttClient;
  let base: string;
  let seq = 0;
  let beating: NodeJS.Timeout | undefined;

  const beat = async () => {
    seq++;
    const t = telemetry({ session: 1, seq, cpu: 40 + (seq % 10), memory: 50, timeMs: Date.now() });
    await agent.publishAsync(topics.telemetry(XSS_ID), Buffer.from(encode("telemetry", t)), { qos: 1 });
  };

  beforeAll(async () => {
    service = await startCoordinatorService(
      testServiceOptions({
        topicRoot: root,
        logger,
        defaultIntervalMs: INTERVAL_MS,
        staleAfterIntervals: 3,
        offlineAfterIntervals: 10,
        http: { host: "127.0.0.1", port: 0 },
        scheduling: {},
      }),
    );
    base = service.http?.url ?? "";
    const url = service.broker?.url ?? "";
    sim = await startSimulation({
      brokerUrl: url,
      nodes: 50,
      intervalMs: INTERVAL_MS,
      topicRoot: root,
      logger,
    });
    agent = await mqtt.connectAsync(url, { clientId: "k3s-fleet-agent-xss", protocolVersion: 4 });
    const b = birth({
      session: 1,
      nodeId: XSS_ID,
      hostname: XSS,
      intervalMs: INTERVAL_MS,
      timeMs: Date.now(),
    });
    b.labels = { zone: XSS, [XSS]: "yes" };
    await agent.publishAsync(topics.birth(XSS_ID), Buffer.from(encode("birth", b)), { qos: 1, retain: true });
    await agent.publishAsync(
      topics.nodeStatus(XSS_ID),
      Buffer.from(encode("nodeStatus", status("online", 1, Date.now()))),
      {
        qos: 1,
        retain: true,
      },
    );
    beating = setInterval(() => void beat().catch(() => {}), INTERVAL_MS);
    await until(() => service.coordinator.fleet.nodes.size >= 51, 20_000, "51 nodes known");
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 900 });
    await page.evaluateOnNewDocument(() => {
      const page = globalThis as unknown as {
        __errors: string[];
        addEventListener(type: "error", fn: (e: { message: string }) => void): void;
      };
      page.__errors = [];
      page.addEventListener("error", (e) => page.__errors.push(String(e.message)));
    });
  }, 60_000);

  afterAll(async () => {
    clearInterval(beating);
    await browser?.close();
    await agent?.endAsync();
    await sim?.stop();
    await service?.stop();
  });

  const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? "");
  const waitText = (selector: string, pattern: RegExp, timeout = 15_000) =>
    page.waitForFunction(
      (sel, source) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): Text | null } })
          .document;
        return new RegExp(source).test(doc.querySelector(sel)?.textContent ?? "");
      },
      { timeout, polling: 100 },
      selector,
      pattern.source,
    );

  it("lists all 51 nodes with counts by state, sorted by CPU", async () => {
    await page.goto(`${base}/`);
    await waitText("[data-count=total]", /^51 nodes$/);
    await waitText(".live", /live/);
    const cpus = await page.$$eval(".row:not([hidden]) .c-cpu", (cells) =>
      cells.map((c) => Number.parseFloat(c.textContent ?? "")),
    );
    expect(cpus.length).toBeGreaterThan(10);
    expect(cpus).toEqual([...cpus].sort((a, b) => b - a));
    await page.screenshot({ path: join(SCREENSHOTS, "fleet.png") });
  });

  it("shows the XSS hostname and label as text, running nothing", async () => {
    await page.type("input[aria-label='text filter']", "onerror");
    await waitText(".fleet .shown", /^showing 1 of 51$/);
    // Rows left over from the unfiltered table are hidden, not shown with old content.
    const visible = await page.$$eval(".row", (rows) =>
      rows
        .filter((r) => (r as unknown as { offsetParent: unknown }).offsetParent !== null)
        .map((r) => r.getAttribute("data-node")),
    );
    expect(visible).toEqual([XSS_ID]);
    const host = await text(`.row[data-node='${XSS_ID}'] .c-host`);
    expect(host).toBe(XSS);
    expect(await text(`.row[data-node='${XSS_ID}'] .c-labels`)).toContain(`zone=${XSS}`);
    expect(await page.$$eval("main img", (imgs) => imgs.length)).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.screenshot({ path: join(SCREENSHOTS, "fleet-xss.png") });
    await page.goto(`${base}/#/node/${encodeURIComponent(XSS_ID)}`);
    await page.waitForSelector("section.node[data-loaded=true]");
    expect(await text("h1")).toBe(`${XSS_ID} (${XSS})`);
    expect(await page.$$eval("main img", (imgs) => imgs.length)).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it("filters by label", async () => {
    await page.goto(`${base}/#/`);
    await page.reload();
    await waitText("[data-count=total]", /^51 nodes$/);
    await page.type("input[aria-label='label filter']", "k3s-fleet.io/simulated=true");
    await waitText(".fleet .shown", /^showing 50 of 51$/);
  });

  it("draws a node's history chart and its birth facts", async () => {
    const id = sim.nodeIds[0] as string;
    await page.goto(`${base}/#/node/${encodeURIComponent(id)}`);
    await page.waitForSelector("section.node[data-loaded=true]");
    await page.waitForSelector("[data-chart=recent] canvas");
    // Let the line grow: at least 10 samples in the recent window (the chart spans minutes, so a node that
    // came up a second ago is a dot), then look for the CPU line's colour on the canvas.
    await until(
      async () => {
        const res = await fetch(`${base}/api/node/${encodeURIComponent(id)}`);
        const body = (await res.json()) as { series: { raw: { cpu: (number | null)[] } } };
        return body.series.raw.cpu.filter((v) => v !== null).length >= 10;
      },
      20_000,
      "10 samples of history",
    );
    await new Promise((r) => setTimeout(r, 1500)); // a live update redraws the chart
    const painted = await page.$eval("[data-chart=recent] canvas", (canvas) => {
      const c = canvas as unknown as Canvas;
      const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs((data[i] as number) - 0x2f) < 12 &&
          Math.abs((data[i + 1] as number) - 0x7f) < 12 &&
          Math.abs((data[i + 2] as number) - 0xd8) < 12
        )
          n++;
      }
      return n;
    });
    expect(painted).toBeGreaterThan(50);
    expect(await page.$eval(".facts", (el) => el.textContent)).toContain("Kubernetes node");
    await page.screenshot({ path: join(SCREENSHOTS, "node.png"), fullPage: true });
  });

  it("shows a dry-run schedule request in the decisions view with its score bars", async () => {
    await page.goto(`${base}/#/scheduling`);
    await page.waitForSelector("section.scheduling");
    const requester = await connectRequester(service.broker?.url ?? "", root);
    try {
      const request = scheduleRequest(root, requester.clientId, { dryRun: true, podName: "web-dry-run" });
      const decision = await requester.request(request);
      expect(decision.node).not.toBe("");
      await page.waitForSelector(`.decision[data-request='${request.requestId}'] .score`, {
        timeout: 10_000,
      });
      const bars = await page.$$eval(
        `.decision[data-request='${request.requestId}'] .score .bar-fill`,
        (els) =>
          els.map(
            (e) =>
              (e as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width,
          ),
      );
      expect(bars.length).toBe(decision.scores.length);
      expect(bars.some((w) => w > 0)).toBe(true);
      expect(await text(`.decision[data-request='${request.requestId}'] .node-link`)).toBe(decision.node);
      expect(await text("[data-stat=decisions] .value")).toMatch(/^[1-9]/);
      // A pod no node matches: unschedulable, with the filter reasons listed.
      const huge = scheduleRequest(root, requester.clientId, {
        dryRun: true,
        podName: "nowhere",
        nodeSelector: { zone: "nowhere" },
      });
      const refused = await requester.request(huge);
      expect(refused.node).toBe("");
      const reasons = `.decision[data-request='${huge.requestId}'] .reasons li`;
      await page.waitForSelector(reasons, { timeout: 10_000 });
      const listed = await page.$$eval(reasons, (items) => items.map((i) => i.textContent ?? ""));
      expect(listed.join(" ")).toMatch(/didn't match Pod's node affinity\/selector/);
      expect(await text(`.decision[data-request='${huge.requestId}'] .badge`)).toBe("unschedulable");
      await page.screenshot({ path: join(SCREENSHOTS, "scheduling.png"), fullPage: true });
    } finally {
      await requester.close();
    }
  });

  it("turns a silent node stale then offline, and a killed one offline, without a reload", async () => {
    await page.goto(`${base}/#/`);
    await page.reload();
    await waitText("[data-count=total]", /^51 nodes$/);
    await page.type("input[aria-label='text filter']", "-node");
    const state = `.row[data-node='${XSS_ID}'] .c-state`;
    await waitText(state, /^online$/);
    // A marker on the page's global object: a reload would lose it.
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    clearInterval(beating);
    await waitText(state, /^stale$/, 10_000);
    await page.screenshot({ path: join(SCREENSHOTS, "fleet-stale.png") });
    await waitText(state, /^offline$/, 15_000);
    const killed = sim.nodeIds[1] as string;
    await page.click("input[aria-label='text filter']", { count: 3 });
    await page.keyboard.press("Backspace");
    await page.type("input[aria-label='text filter']", killed);
    await waitText(`.row[data-node='${killed}'] .c-state`, /^online$/);
    sim.kill(killed);
    await waitText(`.row[data-node='${killed}'] .c-state`, /^offline$/, 10_000);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { __errors: string[] }).__errors)).toEqual([]);
  }, 45_000);
});
