// Who may publish and subscribe what: pure functions of a principal, its client id and the topic contract.
// No aedes, no I/O: the broker glue (broker-auth.ts) asks these and acts on the answers.
import { nodeIdProblem, type Topics } from "../../../proto/topics.ts";

export const ROLES = ["node", "scheduler", "coordinator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who a connection is. `anonymous` is the loopback-only mode with no users file: one principal for every
 * client, allowed everything but publishing to `$` topics.
 */
export type Principal =
  | { kind: "user"; username: string; role: Exclude<Role, "node"> }
  | { kind: "user"; username: string; role: "node"; nodeId: string }
  | { kind: "anonymous" };

/** Topic filters a client may publish to (matched exactly, wildcards in the grant only) and subscribe to. */
export interface Grants {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/** Level-by-level MQTT match of a concrete `topic` against `filter` (MQTT 3.1.1 §4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.includes("+") || topic.includes("#")) return false;
  // [MQTT-4.7.2-1]: a filter starting with a wildcard never matches a topic starting with '$'.
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic `requested` can match is matched by `allowed`: subscribing adds nothing more. */
export function filterCovers(allowed: string, requested: string): boolean {
  if (requested.startsWith("$") && (allowed.startsWith("+") || allowed.startsWith("#"))) return false;
  const a = allowed.split("/");
  const r = requested.split("/");
  for (let i = 0; i < a.length; i++) {
    const level = a[i];
    if (level === "#") return true; // also covers the parent level, as `x/#` matches `x`
    const wanted = r[i];
    if (wanted === undefined || wanted === "#") return false;
    if (level === "+") continue;
    if (wanted === "+" || wanted !== level) return false;
  }
  return a.length === r.length;
}

export function mayPublish(grants: Grants, topic: string): boolean {
  if (topic.length === 0 || topic.startsWith("$")) return false;
  return grants.publish.some((filter) => topicMatches(filter, topic));
}

export function maySubscribe(grants: Grants, filter: string): boolean {
  if (filter.length === 0) return false;
  return grants.subscribe.some((allowed) => filterCovers(allowed, filter));
}

/**
 * The role table of issue 5. Filters not in the topic contract (`coordinator/#`, `schedule/reply/+`) are
 * built from `topics.root` here, in one place.
 */
export function defaultGrants(principal: Principal, clientId: string, topics: Topics): Grants {
  if (principal.kind === "anonymous") return { publish: ["#"], subscribe: ["#", "$SYS/#"] };
  const coordinatorAll = `${topics.root}/coordinator/#`;
  switch (principal.role) {
    case "node":
      return {
        publish: [
          topics.birth(principal.nodeId),
          topics.telemetry(principal.nodeId),
          topics.nodeStatus(principal.nodeId),
        ],
        // Its own conflict notices: told to stop when another machine holds its node id.
        subscribe: [topics.coordinatorStatus, topics.nodeConflict(principal.nodeId)],
      };
    case "scheduler":
      return {
        publish: [topics.scheduleRequest],
        // A client id that is not a valid topic level (wildcards, '/') gets no reply topic at all.
        subscribe: [...(nodeIdProblem(clientId) ? [] : [topics.scheduleReply(clientId)]), coordinatorAll],
      };
    case "coordinator":
      return {
        // node/+/birth|status: only to clear the retained ones of a node gone for good (expiry, forget).
        publish: [
          coordinatorAll,
          `${topics.root}/schedule/reply/+`,
          `${topics.root}/node/+/birth`,
          `${topics.root}/node/+/status`,
        ],
        subscribe: [topics.filters.allNodes, topics.scheduleRequest, coordinatorAll],
      };
    case "viewer":
      return { publish: [], subscribe: [topics.filters.allNodes, coordinatorAll] };
  }
}

/** The agent's MQTT client id for a node (agent/agent.ts). */
export function defaultAgentClientId(nodeId: string): string {
  return `k3s-fleet-agent-${nodeId}`;
}

export interface ClientIdContext {
  /** Client ids that belong to a node-role user, each mapped to that user's name. */
  reserved: ReadonlyMap<string, string>;
  agentClientId: (nodeId: string) => string;
}

/**
 * Why `principal` may not use `clientId`, or undefined. Defaults: client ids must be valid topic levels
 * (a scheduler's reply topic is named after it); a node uses its node id or its agent's client id, and
 * those ids are reserved for it, so nobody else can squat on them before it connects.
 */
export function defaultClientIdProblem(
  principal: Principal,
  clientId: string,
  context: ClientIdContext,
): string | undefined {
  if (principal.kind === "anonymous") return undefined;
  const problem = nodeIdProblem(clientId);
  if (problem) return `client id is not a valid topic level: ${problem.replace("node id", "client id")}`;
  if (principal.role === "node") {
    const own = [principal.nodeId, context.agentClientId(principal.nodeId)];
    // or as one install of it (proto agentClientId): k3s-fleet-agent.{8 hex}.{node id}
    const install = /^k3s-fleet-agent\.[0-9a-f]{8}\.(.*)$/s.exec(clientId)?.[1] === principal.nodeId;
    if (!own.includes(clientId) && !install)
      return `node ${principal.nodeId} must connect as "${own.join('" or "')}"`;
    return undefined;
  }
  const owner = context.reserved.get(clientId);
  if (owner !== undefined && owner !== principal.username)
    return `client id is reserved for node user ${owner}`;
  return undefined;
}

/**
 * Whether `principal` may keep a persistent session (clean session = 0). A session outlives its connection
 * and queues messages for it, so roles that only look (viewer) are refused one: a viewer that subscribed to
 * all telemetry and left would have the broker queue the fleet's traffic for it.
 */
export function defaultPersistentSession(principal: Principal): boolean {
  return principal.kind === "anonymous" || principal.role !== "viewer";
}

/** Policy as injected functions; `createBrokerAuth` takes any subset and fills in the rest from here. */
export interface AuthPolicy {
  grants: (principal: Principal, clientId: string, topics: Topics) => Grants;
  clientIdProblem: (principal: Principal, clientId: string, context: ClientIdContext) => string | undefined;
  agentClientId: (nodeId: string) => string;
  persistentSession: (principal: Principal) => boolean;
}

export const defaultAuthPolicy: AuthPolicy = {
  persistentSession: defaultPersistentSession,
  grants: defaultGrants,
  clientIdProblem: defaultClientIdProblem,
  agentClientId: defaultAgentClientId,
};
