// `capture`: one snapshot of this machine, no broker involved. Two readings a short window apart give real
// rates; the internet probe runs during the window so the whole thing takes about a second.

import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { createMessage, type NodeSnapshot, NodeSnapshotSchema } from "../proto/index.ts";
import { canConnect, parseHostPort } from "./health.ts";
import type { SampleSource } from "./readings.ts";
import { createSystemSource } from "./sample-source.ts";
import { shapeBirth, shapeTelemetry } from "./shape.ts";
import { AGENT_VERSION } from "./version.ts";

export { renderSnapshot } from "./snapshot-text.ts";

export interface CaptureOptions {
  /** Node id to report; default: the hostname. */
  nodeId?: string;
  k8sNodeName?: string;
  labels?: Record<string, string>;
  intervalMs?: number;
  /** `target` undefined: not checked, reported as false. */
  internet?: { target?: string; timeoutMs: number; everyMs?: number };
  /** Time between the two readings. */
  windowMs?: number;
  logger?: Logger;
  /** The host's /proc, /sys and / (default: this process's); see SystemSourceOptions. */
  roots?: { procRoot?: string; sysRoot?: string; rootfs?: string };
  source?: SampleSource;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function captureSnapshot(options: CaptureOptions = {}): Promise<NodeSnapshot> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const source = options.source ?? createSystemSource({ ...options.roots, logger: options.logger });
  const probe = options.internet;
  const target = probe?.target === undefined ? undefined : parseHostPort(probe.target);
  const internet = probe && target ? canConnect(target, probe.timeoutMs) : Promise.resolve(false);

  const [facts, first] = await Promise.all([source.facts(), source.read()]);
  await sleep(options.windowMs ?? 1_000);
  const second = await source.read();
  const { counters } = shapeTelemetry(first, undefined, now(), { linkConnected: false, internet: false });
  // No broker here: "online" is judged on the default route alone.
  const { telemetry } = shapeTelemetry(second, counters, now(), {
    linkConnected: true,
    internet: await internet,
  });
  const nodeId = options.nodeId ?? facts.hostname;
  return create(NodeSnapshotSchema, {
    birth: createMessage(
      "birth",
      shapeBirth(facts, {
        nodeId,
        session: 0n,
        nowMs: now(),
        agentVersion: AGENT_VERSION,
        k8sNodeName: options.k8sNodeName,
        labels: options.labels ?? {},
        intervalMs: options.intervalMs ?? 0,
      }),
    ),
    telemetry: createMessage("telemetry", { ...telemetry, session: 0n, seq: 0n }),
  });
}
