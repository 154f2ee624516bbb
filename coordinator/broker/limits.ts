// Broker limits as pure decisions: maximum topic length, maximum payload per contract topic kind, and a
// per-client publish rate (token bucket). No aedes, no sockets, no clock of its own: callers pass `now`
// (monotonic milliseconds) and keep the state. The aedes glue is limits-hooks.ts.

/** Stable reasons, logged with every refusal and counted by `limitRefusals()`. */
export type LimitReason =
  | "topic_too_long" // PUBLISH topic longer than maxTopicLength (UTF-8 bytes)
  | "payload_too_large" // payload above the limit of its topic kind
  | "rate_limited" // the client's token bucket is empty
  | "new_node_rate" // the client (or its address) introduced too many new node ids this minute (new-nodes.ts)
  | "filter_too_long"; // SUBSCRIBE filter longer than maxTopicLength: SUBACK 0x80 for that filter

import {
  DEFAULT_LIMITS,
  type LimitSettings,
  type LimitSettingsInput,
  longestContractTopic,
  PAYLOAD_CLASSES,
  type PayloadClass,
  utf8Length,
} from "../../proto/limits.ts";

export {
  DEFAULT_LIMITS,
  type LimitSettings,
  type LimitSettingsInput,
  longestContractTopic,
  PAYLOAD_CLASSES,
  type PayloadClass,
  utf8Length,
};

export function resolveLimits(input: LimitSettingsInput = {}): LimitSettings {
  return {
    maxTopicLength: input.maxTopicLength ?? DEFAULT_LIMITS.maxTopicLength,
    maxPayloadByTopic: { ...DEFAULT_LIMITS.maxPayloadByTopic, ...input.maxPayloadByTopic },
    maxPublishRate: input.maxPublishRate ?? DEFAULT_LIMITS.maxPublishRate,
    publishBurst: input.publishBurst ?? DEFAULT_LIMITS.publishBurst,
  };
}

/** Every problem with resolved settings, empty when they are usable. */
export function limitProblems(settings: LimitSettings, root: string): string[] {
  const problems: string[] = [];
  const longest = longestContractTopic(root);
  if (!Number.isInteger(settings.maxTopicLength) || settings.maxTopicLength < longest) {
    problems.push(
      `maxTopicLength ${settings.maxTopicLength} is below the longest contract topic under "${root}" (${longest} bytes)`,
    );
  }
  if (settings.maxTopicLength > 65_535) problems.push("maxTopicLength is above the MQTT maximum 65535");
  for (const kind of PAYLOAD_CLASSES) {
    const max = settings.maxPayloadByTopic[kind];
    if (!Number.isInteger(max) || max < 0)
      problems.push(`maxPayloadByTopic.${kind} ${max} is not a size ≥ 0`);
  }
  if (!(settings.maxPublishRate >= 0) || !Number.isFinite(settings.maxPublishRate)) {
    problems.push(`maxPublishRate ${settings.maxPublishRate} is not a rate ≥ 0`);
  }
  if (!Number.isInteger(settings.publishBurst) || settings.publishBurst < 1) {
    problems.push(`publishBurst ${settings.publishBurst} is not a whole number ≥ 1`);
  }
  return problems;
}

const NODE_SUFFIX: Readonly<Record<string, PayloadClass>> = {
  telemetry: "telemetry",
  birth: "birth",
  status: "status",
};

/**
 * The payload class of a PUBLISH topic under `root`. Node topics are classed by their last level whatever
 * the node id looks like, so a malformed id cannot buy a larger limit.
 */
export function payloadClassOf(root: string, topic: string): PayloadClass {
  if (topic.length <= root.length || !topic.startsWith(root) || topic[root.length] !== "/") return "other";
  const rest = topic.slice(root.length + 1);
  if (rest.startsWith("node/")) {
    const slash = rest.indexOf("/", 5);
    if (slash < 0 || rest.indexOf("/", slash + 1) >= 0) return "other";
    return NODE_SUFFIX[rest.slice(slash + 1)] ?? "other";
  }
  if (rest === "coordinator/status") return "coordinatorStatus";
  if (rest === "coordinator/report") return "report";
  if (rest === "schedule/request") return "scheduleRequest";
  if (rest.startsWith("schedule/reply/") && rest.indexOf("/", 15) < 0) return "scheduleReply";
  return "other";
}

// --- token bucket ---------------------------------------------------------------------------------------

export interface TokenBucket {
  tokens: number;
  /** When `tokens` was last brought up to date (monotonic ms). */
  at: number;
}

/** A full bucket: a client may start with a burst. */
export function createBucket(burst: number, now: number): TokenBucket {
  return { tokens: burst, at: now };
}

/**
 * Refills by `ratePerSecond` since the last call (never above `burst`) and takes one token. True when the
 * message may go. A clock that goes backwards refills nothing. Mutates `bucket`.
 */
export function takeToken(bucket: TokenBucket, ratePerSecond: number, burst: number, now: number): boolean {
  const elapsed = now - bucket.at;
  if (elapsed > 0) {
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * ratePerSecond) / 1000);
    bucket.at = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return true;
  }
  return false;
}

// --- one PUBLISH ----------------------------------------------------------------------------------------

export interface PublishFacts {
  topic: string;
  payloadBytes: number;
  /** The client's bucket; undefined when the rate does not apply (exempt client, Will, rate 0). */
  bucket: TokenBucket | undefined;
}

export interface LimitRefusal {
  reason: LimitReason;
  detail: string;
}

/**
 * Why a PUBLISH is refused, or undefined when it may go. Every attempt costs a token first, so a client
 * flooding oversized messages is slowed like any other; then topic length, then payload by topic kind.
 */
export function publishRefusal(
  settings: LimitSettings,
  root: string,
  facts: PublishFacts,
  now: number,
): LimitRefusal | undefined {
  if (
    facts.bucket !== undefined &&
    settings.maxPublishRate > 0 &&
    !takeToken(facts.bucket, settings.maxPublishRate, settings.publishBurst, now)
  ) {
    return {
      reason: "rate_limited",
      detail: `more than ${settings.maxPublishRate} messages/s (burst ${settings.publishBurst})`,
    };
  }
  const topicBytes = utf8Length(facts.topic);
  if (topicBytes > settings.maxTopicLength) {
    return { reason: "topic_too_long", detail: `topic ${topicBytes} bytes > ${settings.maxTopicLength}` };
  }
  const kind = payloadClassOf(root, facts.topic);
  const max = settings.maxPayloadByTopic[kind];
  if (max > 0 && facts.payloadBytes > max) {
    return { reason: "payload_too_large", detail: `${kind} payload ${facts.payloadBytes} bytes > ${max}` };
  }
  return undefined;
}

export function subscribeRefusal(settings: LimitSettings, filter: string): LimitRefusal | undefined {
  const bytes = utf8Length(filter);
  if (bytes > settings.maxTopicLength) {
    return { reason: "filter_too_long", detail: `filter ${bytes} bytes > ${settings.maxTopicLength}` };
  }
  return undefined;
}

// --- log throttle: the shared one (common/log-throttle.ts) -------------------------------------------------

export {
  createLogThrottle,
  type LogDecision,
  type LogThrottle,
  type LogThrottleOptions,
} from "../../common/log-throttle.ts";
