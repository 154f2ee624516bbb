// What the scheduling engine alone would choose for `pod` on a cluster's nodes and pods, joined with the
// service's live agent data: the end-to-end tests' expectation of where the coordinator binds it.
import { liveByNodeName } from "../../coordinator/fleet/live.ts";
import { clusterNodeInputs } from "../../coordinator/placement/index.ts";
import {
  buildSnapshot,
  DEFAULT_SCHEDULER_CONFIG,
  type Decision,
  type Node,
  type Pod,
  schedule,
} from "../../coordinator/scheduler/index.ts";
import type { CoordinatorService } from "../../coordinator/service.ts";

export function engineChoice(
  service: CoordinatorService,
  cluster: { nodes: unknown[]; pods: unknown[] },
  pod: unknown,
): Decision {
  const now = Date.now();
  const inputs = clusterNodeInputs(
    cluster.nodes as Node[],
    cluster.pods as Pod[],
    liveByNodeName(service.coordinator.fleet, now),
  );
  return schedule(buildSnapshot(inputs), pod as Pod, DEFAULT_SCHEDULER_CONFIG, now);
}
