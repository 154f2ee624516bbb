// Seeded generator of mutated contract payloads for the telemetry, birth, status and schedule-request
// topics: byte-level mutations of valid messages (bit flips, truncation, extension, random bytes, splices),
// field-level ones written by hand in wire format (huge and overlong varints, wrong wire types, lying
// lengths, groups, invalid UTF-8, field 0), well-typed messages with extreme values (NaN, 2^64−1,
// timestamps out of range, enum values nobody defined), oversized payloads and a few mutated topics.

import { createMessage, encode, topicsFor } from "../../proto/index.ts";
import { birth, status, telemetry } from "../support/fleet-messages.ts";
import type { Rng } from "./rng.ts";
import { concat, WIRE, Wire } from "./wire.ts";

export const FUZZ_KINDS = ["telemetry", "birth", "status", "scheduleRequest"] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

export const MUTATIONS = [
  "valid",
  "bitflip",
  "truncate",
  "extend",
  "random",
  "splice",
  "field",
  "extreme",
  "oversized",
] as const;
export type Mutation = (typeof MUTATIONS)[number];

export interface FuzzMessage {
  kind: FuzzKind;
  mutation: Mutation;
  /** The topic is not the kind's contract topic for a pool node (bad node id, unknown level, other root). */
  topicMutated: boolean;
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1;
  retain: boolean;
}

export interface PayloadFuzzerOptions {
  root: string;
  /** Node ids the messages are about; keep it small, the fleet keeps a state per node. */
  nodeIds: readonly string[];
  /** Per-kind payload limits, so `oversized` lands just above and far above them. */
  payloadLimits: Readonly<Record<FuzzKind, number>>;
}

// Mutation mix, per message. `valid` keeps the apply path busy (seqs, duplicates, gaps, sessions).
const MIX: readonly (readonly [number, Mutation])[] = [
  [10, "valid"],
  [14, "bitflip"],
  [10, "truncate"],
  [8, "extend"],
  [10, "random"],
  [6, "splice"],
  [22, "field"],
  [15, "extreme"],
  [5, "oversized"],
];

/** Field numbers by wire type, per message (from fleet.proto), for well-aimed wrong wire types. */
const FIELDS: Record<
  FuzzKind,
  { varint: number[]; strings: number[]; messages: number[]; fixed32: number[] }
> = {
  telemetry: { varint: [1, 2, 4, 11], strings: [], messages: [3, 5, 6, 7, 8, 9, 10], fixed32: [12] },
  birth: { varint: [2, 9, 10, 14], strings: [1, 4, 5, 6], messages: [3, 7, 8, 11, 12, 13], fixed32: [] },
  status: { varint: [1, 2], strings: [4], messages: [3], fixed32: [] },
  scheduleRequest: {
    varint: [13],
    strings: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    messages: [10, 11, 12],
    fixed32: [],
  },
};

const U64_EXTREMES = [0n, 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const U32_EXTREMES = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
// Within float32 (protobuf-es refuses to encode more); larger ones are written as raw bits by `field`.
const FLOAT_EXTREMES = [Number.NaN, Infinity, -Infinity, -0, -1, -1e30, 1e-45, 100.0001, 3.4e38, -3.4e38];
// Timestamp seconds: before 0001-01-01, after 9999-12-31, the int64 ends; nanos out of [0, 1e9).
const SECONDS_EXTREMES = [0n, -62_135_596_801n, 253_402_300_800n, 2n ** 63n - 1n, -(2n ** 63n), 1n];
const NANOS_EXTREMES = [0, -1, 999_999_999, 1_000_000_000, 2 ** 31 - 1, -(2 ** 31)];
const STRING_EXTREMES = [
  "",
  "\u0000",
  "a\u0000b",
  "\u202eevil",
  "\ud800",
  "节点🚀",
  "x".repeat(300),
  "../../etc/passwd",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style string, on purpose
  "${jndi:ldap://x}",
  "<script>",
  "k3s-fleet/v1/node/+/#",
];
const QUANTITY_EXTREMES = [
  "",
  "-1",
  "0",
  "1e309",
  "999999999999999999999Ei",
  "500m",
  "0.0000001",
  "NaN",
  "1Ki",
  "∞",
];

export function createPayloadFuzzer(rng: Rng, options: PayloadFuzzerOptions) {
  const { root, nodeIds, payloadLimits } = options;
  const topics = topicsFor(root);
  // Per pool node: the session and last seq of its valid telemetry, so valid messages mostly advance.
  const sessions = new Map<string, { session: number; seq: number }>();

  const contractTopic = (kind: FuzzKind, nodeId: string) =>
    kind === "telemetry"
      ? topics.telemetry(nodeId)
      : kind === "birth"
        ? topics.birth(nodeId)
        : kind === "status"
          ? topics.nodeStatus(nodeId)
          : topics.scheduleRequest;

  function validMessage(kind: FuzzKind, nodeId: string): Uint8Array {
    const state = sessions.get(nodeId) ?? { session: 1, seq: 0 };
    sessions.set(nodeId, state);
    const at = Date.UTC(2025, 0, 1) + rng.int(1e9);
    switch (kind) {
      case "telemetry": {
        const step = rng.weighted([
          [85, 1],
          [5, 0], // duplicate
          [5, rng.between(2, 50)], // gap
          [5, -rng.between(1, 5)], // late
        ] as const);
        if (rng.chance(0.01)) {
          state.session++;
          state.seq = 0;
        }
        state.seq = Math.max(1, state.seq + step);
        return encode(
          "telemetry",
          telemetry({ session: state.session, seq: state.seq, timeMs: at, cpu: rng.int(101) }),
        );
      }
      case "birth":
        return encode(
          "birth",
          birth({ session: state.session, nodeId, intervalMs: rng.pick([100, 1000, 5000]), timeMs: at }),
        );
      case "status":
        return encode("nodeStatus", status(rng.chance(0.8) ? "online" : "offline", state.session, at));
      case "scheduleRequest":
        return encode(
          "scheduleRequest",
          createMessage("scheduleRequest", {
            requestId: `req-${rng.u32().toString(16)}`,
            replyTo: topics.scheduleReply(`client-${rng.int(4)}`),
            podName: `pod-${rng.int(1000)}`,
            namespace: "default",
            image: "nginx:1.27",
            cpuRequest: rng.pick(["100m", "500m", "1"]),
            memoryRequest: rng.pick(["64Mi", "512Mi"]),
            labels: { app: "fuzz" },
            dryRun: true,
          }),
        );
    }
  }

  function extremeMessage(kind: FuzzKind, nodeId: string): Uint8Array {
    const time = () => ({ seconds: rng.pick(SECONDS_EXTREMES), nanos: rng.pick(NANOS_EXTREMES) });
    const f = () => rng.pick(FLOAT_EXTREMES);
    const u64 = () => rng.pick(U64_EXTREMES);
    const u32 = () => rng.pick(U32_EXTREMES);
    const str = () => rng.pick(STRING_EXTREMES);
    switch (kind) {
      case "telemetry":
        return encode(
          "telemetry",
          createMessage("telemetry", {
            session: rng.chance(0.5) ? u64() : 1n,
            seq: rng.chance(0.5) ? u64() : BigInt(rng.between(1, 1000)),
            time: rng.chance(0.7) ? time() : undefined,
            historical: rng.chance(0.3),
            cpu: rng.chance(0.8)
              ? {
                  usagePercent: f(),
                  coreUsagePermille: Array.from({ length: rng.pick([0, 1, 4, 300]) }, u32),
                  cores: u32(),
                  load1m: f(),
                  load5m: f(),
                  load15m: f(),
                }
              : undefined,
            memory: rng.chance(0.8)
              ? {
                  totalBytes: u64(),
                  availableBytes: u64(),
                  usedBytes: u64(),
                  freeBytes: u64(),
                  swapTotalBytes: u64(),
                  swapUsedBytes: u64(),
                }
              : undefined,
            filesystems: Array.from({ length: rng.pick([0, 1, 3, 40]) }, () => ({
              mount: str(),
              sizeBytes: u64(),
              usedBytes: u64(),
              usePercent: f(),
            })),
            diskIo: rng.chance(0.5) ? { readBytesPerSec: u64(), writeBytesPerSec: u64() } : undefined,
            network: rng.chance(0.5)
              ? {
                  defaultInterface: str(),
                  interfaces: Array.from({ length: rng.pick([0, 2, 30]) }, () => ({
                    name: str(),
                    up: rng.chance(0.5),
                    rxBytesPerSec: u64(),
                    txBytesPerSec: u64(),
                  })),
                }
              : undefined,
            health: rng.chance(0.7)
              ? {
                  online: rng.chance(0.5),
                  internet: rng.chance(0.5),
                  vpn: rng.chance(0.5),
                  vpnInterface: str(),
                }
              : undefined,
            uptimeSeconds: u64(),
            cpuTemperatureCelsius: rng.chance(0.5) ? f() : undefined,
          }),
        );
      case "birth":
        return encode(
          "birth",
          createMessage("birth", {
            nodeId: rng.pick([nodeId, "", str()]),
            session: u64(),
            time: rng.chance(0.8) ? time() : undefined,
            agentVersion: str(),
            hostname: str(),
            k8sNodeName: str(),
            os: { platform: str(), distro: str(), release: str(), kernel: str(), arch: str() },
            cpu: { manufacturer: str(), model: str(), cores: u32(), physicalCores: u32(), speedGhz: f() },
            memoryTotalBytes: u64(),
            swapTotalBytes: u64(),
            filesystems: Array.from({ length: rng.pick([0, 2, 50]) }, () => ({
              mount: str(),
              device: str(),
              type: str(),
              sizeBytes: u64(),
            })),
            interfaces: Array.from({ length: rng.pick([0, 2, 50]) }, () => ({
              name: str(),
              mac: str(),
              addresses: [str(), str()],
              type: str(),
              virtual: rng.chance(0.5),
              speedMbps: u32(),
            })),
            labels: Object.fromEntries(
              Array.from({ length: rng.pick([0, 3, 200]) }, (_, i) => [`${str()}${i}`, str()]),
            ),
            intervalMs: u32(),
          }),
        );
      case "status":
        return encode(
          "nodeStatus",
          createMessage("nodeStatus", {
            state: rng.pick([0, 1, 2, 3, 99, -1, 2 ** 31 - 1]),
            session: u64(),
            time: rng.chance(0.8) ? time() : undefined,
            reason: str(),
          }),
        );
      case "scheduleRequest":
        return encode(
          "scheduleRequest",
          createMessage("scheduleRequest", {
            requestId: str(),
            replyTo: rng.pick([str(), topics.scheduleReply("c"), `${root}/node/+/telemetry`, "#", "$SYS/x"]),
            podName: str(),
            namespace: str(),
            image: str(),
            cpuRequest: rng.pick(QUANTITY_EXTREMES),
            memoryRequest: rng.pick(QUANTITY_EXTREMES),
            cpuLimit: rng.pick(QUANTITY_EXTREMES),
            memoryLimit: rng.pick(QUANTITY_EXTREMES),
            labels: Object.fromEntries(
              Array.from({ length: rng.pick([0, 2, 100]) }, (_, i) => [`${str()}${i}`, str()]),
            ),
            nodeSelector: rng.chance(0.5) ? { [str()]: str() } : {},
            tolerations: Array.from({ length: rng.pick([0, 1, 50]) }, () => ({
              key: str(),
              operator: str(),
              value: str(),
              effect: str(),
            })),
            dryRun: rng.chance(0.5),
          }),
        );
    }
  }

  /** One hand-written malformed (or oddly well-formed) field, in wire format. */
  function badField(kind: FuzzKind): Uint8Array {
    const fields = FIELDS[kind];
    const anyField = () =>
      rng.pick([
        ...fields.varint,
        ...fields.strings,
        ...fields.messages,
        ...fields.fixed32,
        rng.between(15, 40),
      ]);
    const w = new Wire();
    switch (rng.int(13)) {
      case 0: // huge varint: 2^64 − 1, i.e. −1 as int64, into any field
        return w
          .tag(anyField(), WIRE.varint)
          .varint(rng.pick([2n ** 64n - 1n, -1n, -(2n ** 63n), 2n ** 63n]))
          .finish();
      case 1: // overlong varint, more than 10 bytes
        return w.tag(anyField(), WIRE.varint).overlongVarint(rng.between(10, 40)).finish();
      case 2: // a varint field sent length-delimited
        return w
          .bytesField(rng.pick(fields.varint.length ? fields.varint : [1]), rng.bytes(rng.int(16)))
          .finish();
      case 3: // a string or message field sent as a varint, fixed32 or fixed64
        return w
          .tag(
            rng.pick([...fields.strings, ...fields.messages]),
            rng.pick([WIRE.varint, WIRE.fixed32, WIRE.fixed64]),
          )
          .raw(rng.bytes(8))
          .finish();
      case 4: // a length beyond the end of the message, up to 2^64
        return w
          .tag(anyField(), WIRE.bytes)
          .varint(rng.pick([rng.between(1, 1000), 2 ** 31, 2 ** 32 + 1, 2n ** 64n - 1n]))
          .raw(rng.bytes(rng.int(8)))
          .finish();
      case 5: // groups (deprecated wire types 3/4), unterminated or unmatched
        return w
          .tag(anyField(), rng.pick([WIRE.startGroup, WIRE.endGroup]))
          .raw(rng.bytes(rng.int(6)))
          .finish();
      case 6: // wire types 6 and 7 do not exist
        return w
          .tag(anyField(), rng.pick([6, 7]))
          .raw(rng.bytes(4))
          .finish();
      case 7: // field number 0, the largest one, and tags beyond 32 bits
        return w
          .tag(rng.pick([0n, 2n ** 29n - 1n, 2n ** 29n, 2n ** 32n, 2n ** 61n]), rng.int(6))
          .raw(rng.bytes(rng.int(10)))
          .finish();
      case 8: // invalid UTF-8 in a string field
        return w
          .bytesField(
            rng.pick(fields.strings.length ? fields.strings : [1]),
            rng.pick([
              [0xc3, 0x28],
              [0xff, 0xfe],
              [0xed, 0xa0, 0x80],
              [0xe2, 0x82],
              [0xf4, 0x90, 0x80, 0x80],
            ]),
          )
          .finish();
      case 9: {
        // a sub-message with a broken field inside: nested length-delimited chains, packed garbage
        const core = new Wire()
          .tag(rng.between(1, 6), rng.int(8))
          .raw(rng.bytes(rng.int(12)))
          .finish();
        const depth = rng.int(rng.chance(0.1) ? 2000 : 8);
        return concat(...nestedHeaders(depth, core.length, rng.pick(fields.messages)), core);
      }
      case 10: // a packed repeated field with a truncated last varint (telemetry cpu.core_usage_permille)
        return w
          .bytesField(5, new Wire().bytesField(2, [0x80, 0x80, 0x80, 0xff, 0xff, 0x8f]).finish())
          .finish();
      case 11: // a float field as varint and a float as NaN bits
        return w
          .tag(rng.pick([...fields.fixed32, 12]), WIRE.fixed32)
          .fixed32(0x7fc00001)
          .finish();
      default: // unknown high fields that decode fine and must be ignored
        return w.bytesField(rng.between(100, 5000), rng.bytes(rng.int(64))).finish();
    }
  }

  /**
   * Headers of `depth` length-delimited fields nested in each other around `coreLength` bytes, outermost
   * first (the first one is a message field of the kind, the rest whatever): built in linear time.
   */
  function nestedHeaders(depth: number, coreLength: number, outerField = 0): Uint8Array[] {
    const headers: Uint8Array[] = [];
    let length = coreLength;
    for (let level = 0; level <= depth; level++) {
      const field = level === depth && outerField > 0 ? outerField : rng.between(1, 6);
      const header = new Wire().tag(field, WIRE.bytes).varint(length).finish();
      headers.push(header);
      length += header.length;
    }
    return headers.reverse();
  }

  function mutate(kind: FuzzKind, mutation: Mutation, base: Uint8Array, nodeId: string): Uint8Array {
    switch (mutation) {
      case "valid":
        return base;
      case "bitflip": {
        const out = Uint8Array.from(base);
        for (let n = rng.between(1, 8); n > 0 && out.length > 0; n--) {
          const at = rng.int(out.length);
          out[at] = (out[at] as number) ^ (1 << rng.int(8));
        }
        return out;
      }
      case "truncate":
        return base.slice(0, rng.int(base.length));
      case "extend":
        return concat(base, rng.bytes(rng.between(1, 64)));
      case "random":
        return rng.bytes(rng.chance(0.05) ? 0 : rng.between(1, rng.chance(0.9) ? 64 : 900));
      case "splice": {
        const other = validMessage(rng.pick(FUZZ_KINDS), nodeId);
        return concat(base.slice(0, rng.int(base.length + 1)), other.slice(rng.int(other.length + 1)));
      }
      case "field": {
        const bad = badField(kind);
        const where = rng.int(3);
        if (where === 0) return concat(base, bad);
        if (where === 1) return concat(bad, base);
        const at = rng.int(base.length + 1);
        return concat(base.slice(0, at), bad, base.slice(at));
      }
      case "extreme":
        return extremeMessage(kind, nodeId);
      case "oversized": {
        const limit = payloadLimits[kind];
        const size = rng.chance(0.7)
          ? limit + rng.between(1, 64)
          : rng.between(limit + 1, Math.max(limit * 4, 70_000));
        // A valid message padded with an unknown field: it would decode, so only the size refuses it.
        const pad = Math.max(0, size - base.length - 6);
        const header = new Wire().tag(1000, WIRE.bytes).varint(pad).finish();
        return concat(base, header, new Uint8Array(pad)).subarray(0, size);
      }
    }
  }

  function mutatedTopic(kind: FuzzKind): string {
    if (kind === "scheduleRequest") {
      return rng.pick([
        `${root}/schedule/requests`,
        `${root}/schedule/request/x`,
        `${root}/schedule`,
        `${root}/schedule/reply/x`,
      ]);
    }
    const suffix = kind; // telemetry, birth, status: the node topic levels
    const id = rng.pick([
      "",
      "\u0001bell",
      "nul\u0000id",
      "tab\tid",
      "x".repeat(254), // one over MAX_NODE_ID_LENGTH
      "é".repeat(127), // 254 bytes, 127 characters: still a valid id
      "节点",
      "x".repeat(600), // topic over maxTopicLength: refused by the broker
    ]);
    return rng.pick([
      `${root}/node/${id}/${suffix}`,
      `${root}/node/fuzz-x/${suffix}x`,
      `${root}/node/fuzz-x/`,
      `${root}/node/${id}/${suffix}`,
      `k3s-fleet/v2/node/fuzz-x/${suffix}`,
      `${root}/nodes/fuzz-x/${suffix}`,
    ]);
  }

  return {
    next(): FuzzMessage {
      const kind = rng.pick(FUZZ_KINDS);
      const mutation = rng.weighted(MIX);
      const nodeId = rng.pick(nodeIds);
      const base = validMessage(kind, nodeId);
      const payload = mutate(kind, mutation, base, nodeId);
      const topicMutated = rng.chance(0.04);
      const topic = topicMutated ? mutatedTopic(kind) : contractTopic(kind, nodeId);
      return {
        kind,
        mutation,
        topicMutated,
        topic,
        payload,
        qos: rng.chance(0.02) ? 1 : 0,
        // Retained only on the pool's own birth and status topics: a bounded set in the broker's store.
        retain: !topicMutated && (kind === "birth" || kind === "status") && rng.chance(0.1),
      };
    },
  };
}
