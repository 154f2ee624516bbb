// The web view behind the coordinator's real HTTP server: assets, the JSON API, access rules and the
// live stream, on a fleet built in memory (time and ticks driven by the test).

import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { SchedulingSummarySchema } from "../../proto/index.ts";
import { birth, telemetry } from "../../test/support/fleet-messages.ts";
import { hashPassword, parsePasswordHash } from "../broker/auth/password.ts";
import type { UsersTable } from "../broker/auth/users.ts";
import { FleetHistory } from "../fleet/history.ts";
import { applyBirth, applyTelemetry, createFleet, nodeFor } from "../fleet/state.ts";
import { type HttpEndpoint, startHttpServer } from "../http/server.ts";
import type { DecisionRecord } from "../placement/analytics.ts";
import { createWebView, type WebView, type WebViewOptions } from "./index.ts";
import type { FleetRow, StateCounts } from "./rows.ts";
import type { DecisionView, SummaryView } from "./views.ts";

const logger = pino({ level: "silent" });
const CHEAP = { N: 2 ** 4, r: 1, p: 1 };
let clock = 1_000_000;
const now = () => clock;

function fleetOf(...ids: string[]) {
  const fleet = createFleet({ defaultIntervalMs: 1000 });
  const history = new FleetHistory();
  for (const id of ids) {
    const node = nodeFor(fleet, id, clock);
    applyBirth(node, birth({ session: 1, nodeId: id, timeMs: clock }), clock);
    applyTelemetry(fleet, node, telemetry({ session: 1, seq: 1, cpu: 20, memory: 40, timeMs: clock }), clock);
    history.record(id, 1000, clock, 20, 40);
  }
  return { fleet, history };
}

const records: DecisionRecord[] = [];
const scheduling = {
  records: () => records,
  summary: () => create(SchedulingSummarySchema, { decisions: BigInt(records.length) }),
};

let http: HttpEndpoint | undefined;
let web: WebView | undefined;

async function serve(options: Partial<WebViewOptions> = {}) {
  const { fleet, history } = fleetOf("a", "b");
  web = createWebView({
    host: "127.0.0.1",
    fleet,
    history,
    now,
    logger,
    scheduling: () => scheduling,
    // Ticks come from the test.
    timers: { setInterval: () => 0, clearInterval: () => {} },
    ...options,
  });
  http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    registry: new Registry(),
    readiness: [],
    logger,
    web,
  });
  return { fleet, base: http.url };
}

afterEach(async () => {
  web?.close();
  await http?.close();
  records.length = 0;
});

interface StreamData {
  rows: FleetRow[];
  upsert: FleetRow[];
  decisions: DecisionView[];
  summary: SummaryView;
}

/** Reads server-sent events from `res` as {event, data} until `count` have arrived. */
async function readEvents(res: Response, count: number): Promise<Array<{ event: string; data: StreamData }>> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; data: StreamData }> = [];
  let buffer = "";
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
      end = buffer.indexOf("\n\n");
    }
  }
  reader.releaseLock();
  return events;
}

describe("web view over HTTP", () => {
  it("serves the page and its modules with a strict content security policy, and nothing else", async () => {
    const { base } = await serve();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('src="/web/app.js"');
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(new URL("./public/", import.meta.url))).filter((f) => f !== "index.html");
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const path of [...files.map((f) => `/web/${f}`), "/web/uplot.js", "/web/uplot.css"]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(200);
    }
    expect((await fetch(`${base}/web/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/web/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("answers the fleet, a node with its history, and decisions as JSON", async () => {
    const { base } = await serve();
    const fleet = (await (await fetch(`${base}/api/fleet`)).json()) as {
      counts: StateCounts;
      rows: FleetRow[];
    };
    expect(fleet.counts).toEqual({ total: 2, online: 2, stale: 0, offline: 0 });
    expect(fleet.rows.map((r: { id: string }) => r.id).sort()).toEqual(["a", "b"]);
    const node = (await (await fetch(`${base}/api/node/a`)).json()) as {
      row: FleetRow;
      birth: { hostname: string };
      series: { raw: { cpu: Array<number | null> }; minutes: { cpu: { avg: number[] } } };
      pods: null;
    };
    expect(node.row).toMatchObject({ id: "a", cpu: 20, mem: 40 });
    expect(node.birth.hostname).toBe("a");
    expect(node.series.raw.cpu.filter((v: number | null) => v !== null)).toEqual([20]);
    expect(node.series.minutes.cpu.avg).toEqual([20]);
    expect(node.pods).toBeNull();
    expect((await fetch(`${base}/api/node/zzz`)).status).toBe(404);
    expect((await fetch(`${base}/api/node/%E0%A4%A`)).status).toBe(404);
    expect(await (await fetch(`${base}/api/decisions`)).json()).toEqual({
      decisions: [],
      summary: expect.objectContaining({ decisions: 0 }),
    });
  });

  it("streams a snapshot, then deltas of what changed and new decisions", async () => {
    const { fleet, base } = await serve();
    const res = await fetch(`${base}/api/events`);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const [snapshot] = await readEvents(res, 1);
    expect(snapshot?.event).toBe("snapshot");
    expect(snapshot?.data.rows).toHaveLength(2);
    clock += 500;
    applyTelemetry(
      fleet,
      fleet.nodes.get("b") as never,
      telemetry({ session: 1, seq: 2, cpu: 90, timeMs: clock }),
      clock,
    );
    records.push({
      id: 1,
      at: clock,
      source: "mqtt",
      pod: "default/p",
      requestId: "r1",
      status: "scheduled",
      node: "b",
      score: 80,
      scores: [{ plugin: "live-load", score: 70, weight: 2 }],
      reasons: [],
      latencyMs: 3,
      advisory: true,
      dryRun: true,
      running: false,
    });
    await web?.live.tick();
    const [delta] = await readEvents(res, 1);
    expect(delta?.event).toBe("delta");
    expect(delta?.data.upsert.map((r: { id: string }) => r.id)).toEqual(["b"]);
    expect(delta?.data.upsert[0]?.cpu).toBe(90);
    expect(delta?.data.decisions.map((d: { requestId: string }) => d.requestId)).toEqual(["r1"]);
    expect(delta?.data.summary.decisions).toBe(1);
    await res.body?.cancel();
  });

  it("asks for the token when one is set, even on loopback", async () => {
    const { base } = await serve({ token: "a-long-enough-token" });
    const denied = await fetch(`${base}/`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(
      (await fetch(`${base}/api/fleet`, { headers: { authorization: "Bearer wrong-token-wrong" } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${base}/api/fleet`, { headers: { authorization: "Bearer a-long-enough-token" } })).status,
    ).toBe(200);
    const basic = `Basic ${Buffer.from("anyone:a-long-enough-token").toString("base64")}`;
    expect((await fetch(`${base}/`, { headers: { authorization: basic } })).status).toBe(200);
    // Health and metrics keep their own rules.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("lets users-file viewers and coordinators in with HTTP basic, not nodes or wrong passwords", async () => {
    const entry = async (username: string, role: string) => ({
      username,
      role,
      ...(role === "node" ? { nodeId: username } : {}),
      credential: { kind: "password", hash: parsePasswordHash(await hashPassword("secret", CHEAP)) },
    });
    const users = new Map(
      await Promise.all(
        ["viewer", "coordinator", "node"].map(async (role) => [role, await entry(role, role)] as const),
      ),
    ) as unknown as UsersTable;
    const { base } = await serve({ users });
    const as = (user: string, password: string) =>
      fetch(`${base}/api/fleet`, {
        headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
      });
    expect((await as("viewer", "secret")).status).toBe(200);
    expect((await as("coordinator", "secret")).status).toBe(200);
    expect((await as("node", "secret")).status).toBe(401);
    expect((await as("viewer", "wrong")).status).toBe(401);
    expect((await as("nobody", "secret")).status).toBe(401);
    expect((await fetch(`${base}/api/fleet`)).status).toBe(401);
  });

  it("refuses to serve off loopback without a token or users", async () => {
    const { base } = await serve({ host: "0.0.0.0" });
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/http\.token or broker\.usersFile/);
  });
});

describe("the page's scripts", () => {
  it("never parse markup: bus strings reach the DOM only as text", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const dir = new URL("./public/", import.meta.url);
    const scripts = (await readdir(dir)).filter((f) => f.endsWith(".js"));
    expect(scripts.length).toBeGreaterThanOrEqual(7);
    for (const file of scripts) {
      const source = (await readFile(new URL(file, dir), "utf8")).replace(/\/\/.*$/gm, "");
      expect(source, file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      );
    }
  });
});
