// Payload and topic limits sized from the wire contract: the defaults the broker enforces and the config
// schema offers. Pure data, no I/O, so the agent's config loading can use it without coordinator code.

/** What a topic is, for its payload limit: the contract kinds, and everything else. */
export type PayloadClass =
  | "telemetry"
  | "birth"
  | "status"
  | "scheduleRequest"
  | "scheduleReply"
  | "coordinatorStatus"
  | "report"
  | "other";

export const PAYLOAD_CLASSES: readonly PayloadClass[] = [
  "telemetry",
  "birth",
  "status",
  "scheduleRequest",
  "scheduleReply",
  "coordinatorStatus",
  "report",
  "other",
];

export interface LimitSettings {
  /** Longest PUBLISH topic or SUBSCRIBE filter, in UTF-8 bytes (MQTT allows 65535). */
  maxTopicLength: number;
  /** Largest payload in bytes by topic kind; 0 = no limit of its own (the broker-wide cap still applies). */
  maxPayloadByTopic: Record<PayloadClass, number>;
  /** Sustained PUBLISH messages per second per client connection; 0 = no rate limit. */
  maxPublishRate: number;
  /** Messages a client may send at once before the rate applies (token bucket size). */
  publishBurst: number;
}

/** Settings as callers give them: any subset, payload limits per kind too. */
export type LimitSettingsInput = Partial<Omit<LimitSettings, "maxPayloadByTopic">> & {
  maxPayloadByTopic?: Partial<Record<PayloadClass, number>>;
};

const KiB = 1024;

/**
 * What one birth may hold before the coordinator refuses it (coordinator/fleet/telemetry-range.ts), so the
 * agent can refuse such labels before it sends them: strings (a Kubernetes label key is at most
 * 253 + 1 + 63 characters), list items, labels.
 */
export const BIRTH_BOUNDS = { maxString: 320, maxList: 1024, maxLabels: 256 } as const;

/** Characters of label keys and values an agent may configure: half the birth payload cap, for the rest. */
export const MAX_LABEL_CHARS = 8 * KiB;

/**
 * Defaults sized from the contract: telemetry of a big node (64 cores, 20 filesystems, 20 interfaces) is about
 * 1.5 KiB; births carry labels and addresses; a report grows with the fleet (about 200 bytes per node), so it
 * has no limit of its own.
 */
export const DEFAULT_LIMITS: Readonly<LimitSettings> = {
  maxTopicLength: 512,
  maxPayloadByTopic: {
    telemetry: 4 * KiB,
    birth: 16 * KiB,
    status: 1 * KiB,
    scheduleRequest: 16 * KiB,
    scheduleReply: 64 * KiB,
    coordinatorStatus: 1 * KiB,
    report: 0,
    other: 64 * KiB,
  },
  maxPublishRate: 50,
  publishBurst: 100,
};

/**
 * The topic root plus the longest contract suffix: `/node/{253-byte node id}/telemetry` (269 bytes) or
 * `/schedule/reply/{253-byte client id}` (269 bytes). A topic limit below this refuses valid traffic.
 */
export function longestContractTopic(root: string): number {
  return utf8Length(root) + 269;
}

/** UTF-8 length, as MQTT counts topics, without encoding: a lone surrogate counts as U+FFFD (3 bytes). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 2 code units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}
