// A schedule request left retained on an external broker (a client that set the retain flag) is replayed to
// every new subscription: a restarted coordinator must not act on it again, or a pod someone deleted comes
// back. The coordinator ignores retained requests and answers the ones published while it listens; a request
// that arrives after its deadline is refused.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbeddedBroker, startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { DecisionStatus, encode, timestamp, topicsFor } from "../proto/index.ts";
import { EMBEDDED_BROKER_DEFAULTS } from "./support/defaults.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { testServiceOptions } from "./support/service.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("retained schedule requests", () => {
  it("are ignored after a (re)start; requests published live are answered", async () => {
    const broker: EmbeddedBroker = await startEmbeddedBroker({
      ...EMBEDDED_BROKER_DEFAULTS,
      port: 0,
      logger,
    });
    cleanup.push(() => broker.close());
    const client = await connectRequester(broker.url, topics.root);
    cleanup.push(() => client.close());
    // Left retained before any coordinator runs: exactly what a restart would replay.
    const stale = scheduleRequest(topics.root, client.clientId, {
      podName: "deleted-long-ago",
      dryRun: true,
    });
    await client.client.publishAsync(topics.scheduleRequest, Buffer.from(encode("scheduleRequest", stale)), {
      qos: 1,
      retain: true,
    });

    const start = async () => {
      const service: CoordinatorService = await startCoordinatorService(
        testServiceOptions({
          embeddedBroker: undefined,
          brokerUrl: broker.url,
          topicRoot: topics.root,
          logger,
        }),
      );
      cleanup.push(() => service.stop());
      return service;
    };
    const first = await start();
    const live = scheduleRequest(topics.root, client.clientId, { podName: "asked-now", dryRun: true });
    const answer = await client.request(live);
    expect(answer.requestId).toBe(live.requestId);
    await first.stop();
    // A second coordinator (a restart) gets the retained one replayed again, and ignores it again.
    const second = await start();
    const again = await client.request(scheduleRequest(topics.root, client.clientId, { dryRun: true }));
    expect(again.requestId).not.toBe(stale.requestId);
    expect(client.decisions.map((d) => d.requestId)).not.toContain(stale.requestId);
    expect(second.scheduling?.records().some((r) => r.requestId === stale.requestId)).toBe(false);
  });

  it("refuses a request that arrives after its deadline, with the reason", async () => {
    const service = await startCoordinatorService(testServiceOptions({ topicRoot: topics.root, logger }));
    cleanup.push(() => service.stop());
    const client = await connectRequester(service.broker?.url ?? "", topics.root);
    cleanup.push(() => client.close());
    const late = await client.request(
      scheduleRequest(topics.root, client.clientId, {
        dryRun: true,
        deadline: timestamp(Date.now() - 5_000),
      }),
    );
    expect(late.status).toBe(DecisionStatus.REJECTED);
    expect(late.message).toMatch(/request expired at .* \(received \d+\.\d s later\)$/);
    const inTime = await client.request(
      scheduleRequest(topics.root, client.clientId, {
        dryRun: true,
        deadline: timestamp(Date.now() + 30_000),
      }),
    );
    expect(inTime.status).not.toBe(DecisionStatus.REJECTED);
  });
});
