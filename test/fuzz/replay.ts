// In-process replay of fuzz messages, without sockets: the broker's limit verdict, then what the
// coordinator does with a message its subscription gets (ingest), what a schedule-request consumer gets
// (the contract decoder and the envelope salvage), and every so often a report built, rendered, encoded and
// printed as JSON, as the coordinator and `k3s-fleet report` do. Used by the regression tests and to
// shrink a failing network run to one message.
import pino from "pino";
import { topicMatches } from "../../coordinator/broker/auth/index.ts";
import { type LimitSettings, publishRefusal } from "../../coordinator/broker/limits.ts";
import { createIngest, type Ingest } from "../../coordinator/fleet/ingest.ts";
import { salvageEnvelope } from "../../coordinator/placement/envelope.ts";
import { buildReport } from "../../coordinator/report/build.ts";
import { renderReport } from "../../coordinator/report/render.ts";
import { decode, encode, toJson, topicsFor } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../support/defaults.ts";

export interface ReplayTarget {
  readonly ingest: Ingest;
  readonly schedule: { received: number; decoded: number; decodeErrors: number };
  readonly refusedByBroker: number;
  /** Feeds one message; throws what the coordinator would have thrown. */
  feed(topic: string, payload: Uint8Array): void;
  /** Builds, renders, encodes and prints the report as JSON. */
  report(): void;
}

export function createReplayTarget(options: {
  root: string;
  settings: LimitSettings;
  now?: () => number;
}): ReplayTarget {
  const { root, settings } = options;
  const now = options.now ?? Date.now;
  const topics = topicsFor(root);
  const ingest = createIngest({
    fleet: FLEET_DEFAULTS,
    root,
    maxPayloadBytes: 64 * 1024,
    logger: pino({ level: "silent" }),
    now,
  });
  const schedule = { received: 0, decoded: 0, decodeErrors: 0 };
  let refusedByBroker = 0;
  return {
    ingest,
    schedule,
    get refusedByBroker() {
      return refusedByBroker;
    },
    feed(topic, payload) {
      if (publishRefusal(settings, root, { topic, payloadBytes: payload.length, bucket: undefined }, 0)) {
        refusedByBroker++;
        return;
      }
      if (topicMatches(topics.filters.allNodes, topic)) ingest.handle(topic, payload);
      else if (topic === topics.scheduleRequest) {
        schedule.received++;
        const decoded = decode("scheduleRequest", payload);
        if (decoded.ok) {
          schedule.decoded++;
          toJson("scheduleRequest", decoded.message);
        } else {
          schedule.decodeErrors++;
          salvageEnvelope(payload);
        }
      }
    },
    report() {
      const report = buildReport(ingest.fleet, ingest.history, {
        now: now(),
        coordinatorId: "replay",
        mode: "standalone",
        ingest: ingest.counters(),
      });
      const stage = (name: string, run: () => unknown) => {
        try {
          run();
        } catch (error) {
          throw new Error(`report ${name}: ${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
          });
        }
      };
      stage("render", () => renderReport(report));
      stage("encode", () => encode("report", report));
      stage("json", () => toJson("report", report));
    },
  };
}
