// The MQTT topic contract: one place maps each topic to its message type, QoS and retain flag.
// Nobody formats a topic string by hand elsewhere: build with `topicsFor(root)`, parse with `parseTopic`.
import type { DescMessage } from "@bufbuild/protobuf";
import { FleetError } from "../common/errors.ts";
import {
  CoordinatorStatusSchema,
  FleetReportSchema,
  NodeBirthSchema,
  NodeIdConflictSchema,
  NodeStatusSchema,
  NodeTelemetrySchema,
  ScheduleDecisionSchema,
  ScheduleRequestSchema,
} from "./gen/k3sfleet/v1/fleet_pb.js";

export const DEFAULT_TOPIC_ROOT = "k3s-fleet/v1";
export const MAX_NODE_ID_LENGTH = 253;

export type QoS = 0 | 1 | 2;

export interface TopicSpec<S extends DescMessage = DescMessage> {
  readonly schema: S;
  readonly qos: QoS;
  readonly retain: boolean;
}

/** Every topic kind of contract v1 with its payload schema, QoS and retain flag. */
export const CONTRACT = {
  birth: { schema: NodeBirthSchema, qos: 1, retain: true },
  telemetry: { schema: NodeTelemetrySchema, qos: 1, retain: false },
  nodeStatus: { schema: NodeStatusSchema, qos: 1, retain: true },
  coordinatorStatus: { schema: CoordinatorStatusSchema, qos: 1, retain: true },
  report: { schema: FleetReportSchema, qos: 1, retain: true },
  scheduleRequest: { schema: ScheduleRequestSchema, qos: 1, retain: false },
  scheduleDecision: { schema: ScheduleDecisionSchema, qos: 1, retain: false },
  nodeConflict: { schema: NodeIdConflictSchema, qos: 1, retain: false },
} as const satisfies Record<string, TopicSpec>;

export type TopicKind = keyof typeof CONTRACT;
export type NodeTopicKind = "birth" | "telemetry" | "nodeStatus";

const NODE_SUFFIX: Record<NodeTopicKind, string> = {
  birth: "birth",
  telemetry: "telemetry",
  nodeStatus: "status",
};
const SUFFIX_TO_KIND = new Map<string, NodeTopicKind>(
  Object.entries(NODE_SUFFIX).map(([kind, suffix]) => [suffix, kind as NodeTopicKind]),
);

/**
 * Why a node id (or client id used in a topic level) is unusable, or undefined when it is fine.
 * MQTT wildcards and the level separator would change the meaning of a topic; empty ids name nobody.
 */
export function nodeIdProblem(id: string): string | undefined {
  if (id.length === 0) return "node id is empty";
  if (id.length > MAX_NODE_ID_LENGTH) return `node id is longer than ${MAX_NODE_ID_LENGTH} characters`;
  if (/[+#/]/.test(id)) return `node id "${id}" contains one of the MQTT characters '+', '#', '/'`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) return `node id contains a control character`;
  // Direction overrides and isolates make one id show as another in a table ("pi-1\u202e2-ip" reads pi-1pi-2).
  if (/[\u202a-\u202e\u2066-\u2069]/.test(id)) return `node id contains a text-direction control character`;
  // A stray space from an env file (NODE_NAME=" pi-1") would name a node no Kubernetes node matches.
  if (id.trim() !== id) return `node id "${id}" starts or ends with white space`;
  return undefined;
}

/**
 * The agent's MQTT client id: `k3s-fleet-agent.{first 8 of install id}.{node id}`, so two machines that
 * claim one node id do not take each other's connection over (the broker would drop the first for the
 * second, for ever) while the coordinator tells the second to stop; `k3s-fleet-agent-{node id}` without
 * an install id.
 */
export function agentClientId(nodeId: string, installId = ""): string {
  return installId === ""
    ? `k3s-fleet-agent-${nodeId}`
    : `k3s-fleet-agent.${installId.slice(0, 8)}.${nodeId}`;
}

export function assertNodeId(id: string): string {
  const problem = nodeIdProblem(id);
  if (problem) throw new TopicError("K3SF_ERR_NODE_ID", problem);
  return id;
}

export function topicRootProblem(root: string): string | undefined {
  if (root.length === 0) return "topic root is empty";
  if (/[+#]/.test(root)) return `topic root "${root}" contains a wildcard`;
  if (root.startsWith("/") || root.endsWith("/"))
    return `topic root "${root}" must not start or end with '/'`;
  return undefined;
}

export type TopicErrorCode =
  /** A node id that is empty, too long, or holds `+`, `#`, `/` or a control character. */
  | "K3SF_ERR_NODE_ID"
  /** A topic root that is empty, holds a wildcard, or starts or ends with `/`. */
  | "K3SF_ERR_TOPIC_ROOT";

export class TopicError extends FleetError<TopicErrorCode> {}

/** Topic builders for one root; the only place topic strings are assembled. */
export function topicsFor(root: string = DEFAULT_TOPIC_ROOT) {
  const problem = topicRootProblem(root);
  if (problem) throw new TopicError("K3SF_ERR_TOPIC_ROOT", problem);
  const node = (id: string, kind: NodeTopicKind) => `${root}/node/${assertNodeId(id)}/${NODE_SUFFIX[kind]}`;
  return {
    root,
    birth: (id: string) => node(id, "birth"),
    telemetry: (id: string) => node(id, "telemetry"),
    nodeStatus: (id: string) => node(id, "nodeStatus"),
    /** The active coordinator's status (with several replicas, the leader's). */
    coordinatorStatus: `${root}/coordinator/status`,
    /** Each coordinator instance's own status, leader or standby; its Will while it is a standby. */
    coordinatorInstanceStatus: (instanceId: string) =>
      `${root}/coordinator/instance/${assertNodeId(instanceId)}/status`,
    report: `${root}/coordinator/report`,
    /** The coordinator tells the installs of one node id which of them keeps it. */
    nodeConflict: (id: string) => `${root}/coordinator/conflict/${assertNodeId(id)}`,
    scheduleRequest: `${root}/schedule/request`,
    scheduleReply: (clientId: string) => `${root}/schedule/reply/${assertNodeId(clientId)}`,
    /** Subscription filters: the only wildcard topics, used to subscribe, never to publish. */
    filters: {
      allNodes: `${root}/node/+/+`,
      allTelemetry: `${root}/node/+/telemetry`,
    },
  } as const;
}

export type Topics = ReturnType<typeof topicsFor>;

export type ParsedTopic =
  | { kind: NodeTopicKind; nodeId: string }
  | { kind: "coordinatorStatus" | "report" | "scheduleRequest" }
  | { kind: "coordinatorInstanceStatus"; instanceId: string }
  | { kind: "scheduleDecision"; clientId: string }
  | { kind: "nodeConflict"; nodeId: string };

export type ParseResult =
  | { ok: true; topic: ParsedTopic }
  | { ok: false; reason: "bad_topic" | "bad_node_id"; detail: string };

/** Classifies a received topic under `root`; anything else is reported, never thrown. */
export function parseTopic(root: string, topic: string): ParseResult {
  if (!topic.startsWith(`${root}/`))
    return { ok: false, reason: "bad_topic", detail: `outside root ${root}` };
  const levels = topic.slice(root.length + 1).split("/");
  const [first, second, third] = levels;
  if (first === "node" && levels.length === 3 && second !== undefined && third !== undefined) {
    const kind = SUFFIX_TO_KIND.get(third);
    if (!kind) return { ok: false, reason: "bad_topic", detail: `unknown node topic "${third}"` };
    const problem = nodeIdProblem(second);
    if (problem) return { ok: false, reason: "bad_node_id", detail: problem };
    return { ok: true, topic: { kind, nodeId: second } };
  }
  if (first === "coordinator" && levels.length === 2) {
    if (second === "status") return { ok: true, topic: { kind: "coordinatorStatus" } };
    if (second === "report") return { ok: true, topic: { kind: "report" } };
  }
  if (first === "coordinator" && levels.length === 3 && second === "conflict" && third !== undefined) {
    const problem = nodeIdProblem(third);
    if (problem) return { ok: false, reason: "bad_node_id", detail: problem };
    return { ok: true, topic: { kind: "nodeConflict", nodeId: third } };
  }
  if (first === "coordinator" && levels.length === 4 && second === "instance" && levels[3] === "status") {
    if (third && !nodeIdProblem(third))
      return { ok: true, topic: { kind: "coordinatorInstanceStatus", instanceId: third } };
  }
  if (first === "schedule") {
    if (levels.length === 2 && second === "request") return { ok: true, topic: { kind: "scheduleRequest" } };
    if (levels.length === 3 && second === "reply" && third && !nodeIdProblem(third)) {
      return { ok: true, topic: { kind: "scheduleDecision", clientId: third } };
    }
  }
  if (first === "node" && levels.length !== 3) {
    return { ok: false, reason: "bad_node_id", detail: "node topic has the wrong number of levels" };
  }
  return { ok: false, reason: "bad_topic", detail: `unknown topic "${topic}"` };
}
