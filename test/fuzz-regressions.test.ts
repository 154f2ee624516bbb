// The fuzz's findings as regression tests (cases in test/fuzz/regressions.ts): each payload through the
// broker limits, ingest and a report in-process, then through a real coordinator over a real broker with its
// report tick run by hand; the seeds that found them replayed in-process; and the generators' determinism,
// which is what makes a seed worth recording. `open` cases are known bugs outside the fuzz owner's files:
// they run as expected failures (`it.fails`), so the day one is fixed its test fails and says to flip it.
import { createHash } from "node:crypto";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../common/timers.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { resolveLimits } from "../coordinator/broker/limits.ts";
import { type RunningCoordinator, startCoordinator } from "../coordinator/fleet/fleet-service.ts";
import { createPacketFuzzer } from "./fuzz/packets.ts";
import { createPayloadFuzzer, type FuzzKind } from "./fuzz/payloads.ts";
import {
  FAILING_SEEDS,
  fromHex,
  overflowsReportRates,
  REGRESSIONS,
  type RegressionCase,
} from "./fuzz/regressions.ts";
import { createReplayTarget } from "./fuzz/replay.ts";
import { createRng } from "./fuzz/rng.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "./support/defaults.ts";

const ROOT = "k3s-fleet/v1";
const settings = resolveLimits();
const payloadLimits: Record<FuzzKind, number> = {
  telemetry: settings.maxPayloadByTopic.telemetry,
  birth: settings.maxPayloadByTopic.birth,
  status: settings.maxPayloadByTopic.status,
  scheduleRequest: settings.maxPayloadByTopic.scheduleRequest,
};
const silent = pino({ level: "silent" });

/** `it` for cases that must pass, `it.fails` for open bugs. */
const test = (c: { status: RegressionCase["status"] }) => (c.status === "open" ? it.fails : it);

describe("fuzz regressions, in-process: limits → ingest → report", () => {
  for (const c of REGRESSIONS) {
    test(c)(`${c.id} (${c.status}): counted, never thrown; the report builds, renders, encodes`, () => {
      const target = createReplayTarget({ root: ROOT, settings });
      target.feed(c.topic, fromHex(c.payloadHex));
      const counters = target.ingest.counters();
      const rejected = Object.values(counters.rejected).reduce((a, b) => a + (b ?? 0), 0);
      expect(counters.received + target.refusedByBroker).toBe(1);
      expect(counters.rejected.internal ?? 0).toBe(0);
      // Rejected after decoding (counted in `decoded` too): contract problems, impossible values, id conflicts.
      const afterDecode = (["invalid", "non_finite", "out_of_range", "id_conflict"] as const).reduce(
        (sum, reason) => sum + (counters.rejected[reason] ?? 0),
        0,
      );
      expect(counters.received).toBe(counters.decoded - afterDecode + rejected);
      target.report();
    });
  }
});

describe("fuzz regressions, over MQTT: a real coordinator's report tick", () => {
  let broker: EmbeddedBroker;
  let coordinator: RunningCoordinator;
  let tick: () => unknown = () => undefined;
  let sender: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger: silent });
    coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      topicRoot: ROOT,
      clientId: "regression-coordinator",
      reportIntervalMs: 60_000,
      logger: silent,
      // The report tick is run by hand: an exception in it is what would escape setInterval in production.
      timers: {
        ...REAL_TIMERS,
        setInterval: (callback) => {
          tick = callback;
          return 0;
        },
        clearInterval: () => undefined,
      },
    });
    sender = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await sender?.endAsync();
    await coordinator?.stop();
    await broker?.close();
  });

  for (const c of REGRESSIONS) {
    test(c)(`${c.id} (${c.status}): received, counted, and the next report tick does not throw`, async () => {
      const before = coordinator.counters().received;
      await sender.publishAsync(c.topic, Buffer.from(fromHex(c.payloadHex)), { qos: 1 });
      await expect.poll(() => coordinator.counters().received, { timeout: 5000 }).toBe(before + 1);
      expect(coordinator.counters().rejected.internal ?? 0).toBe(0);
      await tick();
      expect(coordinator.counters().reportPublishFailures).toBe(0);
    });
  }
});

describe("fuzz seeds that found a bug, replayed in-process", () => {
  for (const { seed, messages, finds } of FAILING_SEEDS) {
    const status = REGRESSIONS.find((r) => r.id === finds)?.status ?? "fixed";
    test({ status })(`seed ${seed}, ${messages} messages (found ${finds}, ${status})`, () => {
      const target = createReplayTarget({ root: ROOT, settings });
      const fuzzer = createPayloadFuzzer(createRng(seed), {
        root: ROOT,
        nodeIds: Array.from({ length: 8 }, (_, i) => `fuzz-${i}`),
        payloadLimits,
      });
      for (let i = 1; i <= messages; i++) {
        const m = fuzzer.next();
        target.feed(m.topic, m.payload);
        if (i % 250 === 0) target.report();
      }
      expect(target.ingest.counters().rejected.internal ?? 0).toBe(0);
    });
  }

  it("the known-bug filter recognises the open case's payload", () => {
    const c = REGRESSIONS.find((r) => r.id === "report-uint64-rate-overflow") as RegressionCase;
    expect(overflowsReportRates(c.topic, fromHex(c.payloadHex))).toBe(true);
  });
});

describe("fuzz generators are reproducible from the seed", () => {
  const digest = (seed: number) => {
    const hash = createHash("sha256");
    const payloads = createPayloadFuzzer(createRng(seed), { root: ROOT, nodeIds: ["a", "b"], payloadLimits });
    for (let i = 0; i < 2000; i++) {
      const m = payloads.next();
      hash.update(`${m.kind}|${m.mutation}|${m.topic}|${m.qos}|${m.retain}|`).update(m.payload);
    }
    const packets = createPacketFuzzer(createRng(seed), { root: ROOT });
    for (let i = 0; i < 200; i++) for (const chunk of packets.session().chunks) hash.update(chunk);
    return hash.digest("hex");
  };

  it("same seed, same bytes; another seed, other bytes", () => {
    expect(digest(42)).toBe(digest(42));
    expect(digest(42)).not.toBe(digest(43));
  });
});
