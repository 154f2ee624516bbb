// The pure limit decisions as tables: topic classes, token bucket against an injected clock, the order of
// checks in one PUBLISH, settings validation and the log throttle.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../cli/config/load.ts";
import {
  createBucket,
  createLogThrottle,
  DEFAULT_LIMITS,
  type LimitSettings,
  limitProblems,
  longestContractTopic,
  type PayloadClass,
  payloadClassOf,
  publishRefusal,
  resolveLimits,
  subscribeRefusal,
  takeToken,
  utf8Length,
} from "./limits.ts";

const ROOT = "k3s-fleet/v1";

describe("payloadClassOf", () => {
  const table: [string, PayloadClass][] = [
    [`${ROOT}/node/edge-1/telemetry`, "telemetry"],
    [`${ROOT}/node/edge-1/birth`, "birth"],
    [`${ROOT}/node/edge-1/status`, "status"],
    // A malformed node id is still classed by the last level: it cannot buy a larger limit.
    [`${ROOT}/node//telemetry`, "telemetry"],
    [`${ROOT}/node/a\u0001b/birth`, "birth"],
    [`${ROOT}/node/edge-1/other`, "other"],
    [`${ROOT}/node/edge-1/telemetry/x`, "other"],
    [`${ROOT}/node/edge-1`, "other"],
    [`${ROOT}/coordinator/status`, "coordinatorStatus"],
    [`${ROOT}/coordinator/report`, "report"],
    [`${ROOT}/coordinator/report/x`, "other"],
    [`${ROOT}/schedule/request`, "scheduleRequest"],
    [`${ROOT}/schedule/reply/cli-1`, "scheduleReply"],
    [`${ROOT}/schedule/reply/a/b`, "other"],
    [`${ROOT}x/node/edge-1/telemetry`, "other"],
    ["k3s-fleet/v2/node/edge-1/telemetry", "other"],
    [ROOT, "other"],
    ["", "other"],
    ["$SYS/x", "other"],
  ];
  it.each(table)("%j is %s", (topic, kind) => {
    expect(payloadClassOf(ROOT, topic)).toBe(kind);
  });
});

describe("takeToken", () => {
  // [what, rate/s, burst, times of takes (ms), expected results]
  const table: [string, number, number, number[], boolean[]][] = [
    ["a full bucket allows the burst at once", 1, 3, [0, 0, 0, 0], [true, true, true, false]],
    [
      "then one per 1/rate seconds",
      2,
      1,
      [0, 0, 499, 500, 999, 1000],
      [true, false, false, true, false, true],
    ],
    ["refill stops at burst", 10, 2, [0, 0, 10_000, 10_000, 10_000], [true, true, true, true, false]],
    ["a clock going backwards refills nothing", 1, 1, [1000, 0, 500, 2000], [true, false, false, true]],
    ["fractions add up", 3, 1, [0, 0, 100, 200, 333, 334], [true, false, false, false, false, true]],
  ];
  it.each(table)("%s", (_what, rate, burst, times, expected) => {
    const bucket = createBucket(burst, times[0] ?? 0);
    expect(times.map((t) => takeToken(bucket, rate, burst, t))).toEqual(expected);
  });

  it("never allows more than burst + rate × elapsed (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }),
        (rate, burst, steps) => {
          const bucket = createBucket(burst, 0);
          let now = 0;
          let allowed = 0;
          for (const step of steps) {
            now += step;
            if (takeToken(bucket, rate, burst, now)) allowed++;
          }
          return allowed <= burst + (rate * now) / 1000 + 1e-9;
        },
      ),
    );
  });
});

describe("publishRefusal", () => {
  const settings: LimitSettings = resolveLimits({
    maxTopicLength: 300,
    maxPublishRate: 1,
    publishBurst: 1,
    maxPayloadByTopic: { telemetry: 10, report: 0, other: 20 },
  });
  const telemetry = `${ROOT}/node/n/telemetry`;
  const long = `${ROOT}/node/${"x".repeat(300)}/telemetry`;
  // [what, topic, payload bytes, expected reason]
  const table: [string, string, number, string | undefined][] = [
    ["telemetry at its limit goes", telemetry, 10, undefined],
    ["telemetry above its limit", telemetry, 11, "payload_too_large"],
    ["a report has no limit of its own", `${ROOT}/coordinator/report`, 10_000_000, undefined],
    ["other topics take the `other` limit", "x/y", 21, "payload_too_large"],
    [
      "status keeps its default",
      `${ROOT}/node/n/status`,
      DEFAULT_LIMITS.maxPayloadByTopic.status + 1,
      "payload_too_large",
    ],
    ["topic length is checked before payload", long, 1_000_000, "topic_too_long"],
    ["multi-byte characters count as bytes", `${ROOT}/node/${"é".repeat(140)}/status`, 1, "topic_too_long"],
  ];
  it.each(table)("%s", (_what, topic, bytes, reason) => {
    expect(publishRefusal(settings, ROOT, { topic, payloadBytes: bytes, bucket: undefined }, 0)?.reason).toBe(
      reason,
    );
  });

  it("every attempt costs a token first, refused or not", () => {
    const bucket = createBucket(1, 0);
    const at = (topic: string, bytes: number, now: number) =>
      publishRefusal(settings, ROOT, { topic, payloadBytes: bytes, bucket }, now)?.reason;
    expect(at(long, 1, 0)).toBe("topic_too_long"); // spent the only token
    expect(at(telemetry, 1, 1)).toBe("rate_limited");
    expect(at(telemetry, 1, 1001)).toBeUndefined();
  });

  it("rate 0 turns the rate limit off", () => {
    const off = { ...settings, maxPublishRate: 0 };
    const bucket = createBucket(1, 0);
    for (let i = 0; i < 10; i++) {
      expect(publishRefusal(off, ROOT, { topic: telemetry, payloadBytes: 1, bucket }, 0)).toBeUndefined();
    }
  });

  it("subscribe filters share the topic length", () => {
    expect(subscribeRefusal(settings, `${ROOT}/node/+/+`)).toBeUndefined();
    expect(subscribeRefusal(settings, "#".padStart(301, "a"))?.reason).toBe("filter_too_long");
  });
});

describe("settings", () => {
  it("defaults follow the issue and fit every contract topic under the default root", () => {
    expect(DEFAULT_LIMITS).toMatchObject({ maxTopicLength: 512, maxPublishRate: 50, publishBurst: 100 });
    expect(DEFAULT_LIMITS.maxPayloadByTopic).toMatchObject({
      telemetry: 4096,
      birth: 16_384,
      status: 1024,
      scheduleRequest: 16_384,
      report: 0,
    });
    expect(limitProblems(resolveLimits(), ROOT)).toEqual([]);
    expect(longestContractTopic(ROOT)).toBe(ROOT.length + "/node/".length + 253 + "/telemetry".length);
  });

  it("merges payload limits per kind", () => {
    const s = resolveLimits({ maxPayloadByTopic: { telemetry: 1 } });
    expect(s.maxPayloadByTopic).toEqual({ ...DEFAULT_LIMITS.maxPayloadByTopic, telemetry: 1 });
  });

  it("lists every problem", () => {
    const problems = limitProblems(
      {
        maxTopicLength: 100,
        maxPayloadByTopic: { ...DEFAULT_LIMITS.maxPayloadByTopic, birth: -1, status: 1.5 },
        maxPublishRate: Number.NaN,
        publishBurst: 0,
      },
      ROOT,
    );
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/maxTopicLength 100 is below the longest contract topic/);
  });
});

describe("createLogThrottle", () => {
  it("logs a key once per interval and reports what it held back", () => {
    const t = createLogThrottle({ intervalMs: 1000, maxPerInterval: 100, maxKeys: 10 });
    expect(t.admit("a", 0)).toEqual({ log: true, suppressed: 0 });
    expect(t.admit("a", 10)).toEqual({ log: false });
    expect(t.admit("a", 999)).toEqual({ log: false });
    expect(t.admit("b", 999)).toEqual({ log: true, suppressed: 0 });
    expect(t.admit("a", 1000)).toEqual({ log: true, suppressed: 2 });
  });

  it("caps lines per interval over all keys; held-back keys log first next time", () => {
    const t = createLogThrottle({ intervalMs: 1000, maxPerInterval: 2, maxKeys: 100 });
    const lines = ["a", "b", "c", "d"].map((k) => t.admit(k, 0).log);
    expect(lines).toEqual([true, true, false, false]);
    expect(t.admit("c", 1000)).toEqual({ log: true, suppressed: 1 });
  });

  it("bounds its memory under a flood of distinct keys", () => {
    const t = createLogThrottle({ intervalMs: 1000, maxPerInterval: 1_000_000, maxKeys: 5 });
    for (let i = 0; i < 1000; i++) t.admit(`k${i}`, 0);
    // Only the last few keys are remembered: an old key logs again at once.
    expect(t.admit("k0", 1)).toEqual({ log: true, suppressed: 0 });
  });
});

describe("utf8Length", () => {
  it("matches Buffer.byteLength, lone surrogates included (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => utf8Length(s) === Buffer.byteLength(s, "utf8")),
      { numRuns: 200 },
    );
    expect(utf8Length("\ud800x\udc00")).toBe(Buffer.byteLength("\ud800x\udc00"));
  });
});

describe("limit settings in the config (broker.*)", () => {
  const noFile = join(mkdtempSync(join(tmpdir(), "k3sf-limits-")), "config.yaml");
  writeFileSync(noFile, "");

  it("default to DEFAULT_LIMITS and take env and file values, so config.broker passes as LimitSettingsInput", () => {
    const defaults = loadConfig({ file: noFile, env: {} }).broker;
    expect(resolveLimits(defaults)).toEqual(DEFAULT_LIMITS);
    const env = loadConfig({
      file: noFile,
      env: {
        K3S_FLEET_BROKER_MAX_TOPIC_LENGTH: "1024",
        K3S_FLEET_BROKER_MAX_PUBLISH_RATE: "0.5",
        K3S_FLEET_BROKER_PUBLISH_BURST: "3",
        K3S_FLEET_BROKER_MAX_PAYLOAD_BY_TOPIC_TELEMETRY: "8192",
      },
    }).broker;
    expect(resolveLimits(env)).toMatchObject({
      maxTopicLength: 1024,
      maxPublishRate: 0.5,
      publishBurst: 3,
      maxPayloadByTopic: { ...DEFAULT_LIMITS.maxPayloadByTopic, telemetry: 8192 },
    });
    const yaml = join(mkdtempSync(join(tmpdir(), "k3sf-limits-")), "config.yaml");
    writeFileSync(yaml, "broker:\n  maxPayloadByTopic:\n    report: 1048576\n");
    expect(loadConfig({ file: yaml, env: {} }).broker.maxPayloadByTopic.report).toBe(1_048_576);
  });

  it("fails fast when the topic limit cannot carry the contract's own topics, naming the setting", () => {
    expect(() => loadConfig({ file: noFile, env: { K3S_FLEET_BROKER_MAX_TOPIC_LENGTH: "200" } })).toThrow(
      /broker\.maxTopicLength.*at least 281/s,
    );
    expect(() => loadConfig({ file: noFile, env: { K3S_FLEET_BROKER_PUBLISH_BURST: "0" } })).toThrow(
      /broker\.publishBurst/,
    );
  });
});
