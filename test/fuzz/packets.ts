// Seeded generator of mutated MQTT packets: valid packets encoded by mqtt-packet (CONNECT, PUBLISH,
// SUBSCRIBE, UNSUBSCRIBE, PINGREQ, PUBREL, PUBACK, DISCONNECT), then bytes flipped, headers rewritten,
// remaining lengths that lie (larger, smaller, overlong varints, the 256 MiB maximum), cut short, extended,
// spliced, or replaced by noise. A session is what one raw socket sends: a CONNECT (sometimes mutated)
// and a few packets after it.
import { generate, type Packet } from "mqtt-packet";
import type { Rng } from "./rng.ts";

export const PACKET_MUTATIONS = [
  "valid",
  "bitflip",
  "byte",
  "header",
  "length",
  "truncate",
  "extend",
  "splice",
  "noise",
] as const;
export type PacketMutation = (typeof PACKET_MUTATIONS)[number];

export interface RawSession {
  clientId: string;
  /** Chunks written one after another (a packet may straddle two chunks). */
  chunks: Buffer[];
  /** Packets in the session and how each was mutated. */
  mutations: PacketMutation[];
}

const MIX: readonly (readonly [number, PacketMutation])[] = [
  [20, "valid"],
  [15, "bitflip"],
  [10, "byte"],
  [10, "header"],
  [15, "length"],
  [10, "truncate"],
  [8, "extend"],
  [6, "splice"],
  [6, "noise"],
];

export function createPacketFuzzer(rng: Rng, options: { root: string }) {
  const { root } = options;
  let sessions = 0;

  const topic = () =>
    rng.pick([
      `${root}/node/raw-${rng.int(4)}/telemetry`,
      `${root}/node/raw-${rng.int(4)}/status`,
      `${root}/schedule/request`,
      `${root}/coordinator/report`,
      "raw/other",
      "$SYS/raw",
      `${"a/".repeat(rng.int(120))}b`, // up to 121 levels: aedes refuses more than 100
    ]);
  const filter = () =>
    rng.pick([`${root}/node/+/+`, "#", "raw/#", "$SYS/#", "+/+/+", "a/#/b", "", "x".repeat(700)]);

  function connect(clientId: string): Packet {
    return {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: rng.chance(0.95),
      clientId,
      keepalive: rng.pick([0, 1, 30, 65535]),
      ...(rng.chance(0.3)
        ? {
            will: {
              topic: topic(),
              payload: Buffer.from(rng.bytes(rng.int(40))),
              qos: rng.pick([0, 1] as const),
              retain: false,
            },
          }
        : {}),
      ...(rng.chance(0.2) ? { username: "raw", password: Buffer.from("pw") } : {}),
    };
  }

  function packet(): Packet {
    const messageId = rng.between(1, 65535);
    switch (rng.int(8)) {
      case 0:
      case 1:
      case 2: {
        const qos = rng.pick([0, 0, 1, 2] as const);
        return {
          cmd: "publish",
          topic: topic(),
          payload: Buffer.from(rng.bytes(rng.int(rng.chance(0.05) ? 6000 : 64))),
          qos,
          retain: false,
          dup: false,
          ...(qos > 0 ? { messageId } : {}),
        };
      }
      case 3:
        return {
          cmd: "subscribe",
          messageId,
          subscriptions: Array.from({ length: rng.between(1, 3) }, () => ({
            topic: filter(),
            qos: rng.pick([0, 1, 2] as const),
          })),
        };
      case 4:
        return { cmd: "unsubscribe", messageId, unsubscriptions: [filter()] };
      case 5:
        return { cmd: "pingreq" };
      case 6:
        return rng.pick<Packet>([
          { cmd: "pubrel", messageId },
          { cmd: "puback", messageId },
          { cmd: "pubrec", messageId },
        ]);
      default:
        return rng.chance(0.5) ? { cmd: "pingreq" } : { cmd: "disconnect" };
    }
  }

  /** mqtt-packet refuses some packets (an empty filter, say): those are sent as a PINGREQ instead. */
  function encoded(p: Packet): Buffer {
    try {
      return generate(p);
    } catch {
      return generate({ cmd: "pingreq" });
    }
  }

  /** Remaining length as an MQTT variable-length integer (up to 4 bytes), or longer when `overlong`. */
  function remainingLength(value: number, overlong = false): number[] {
    const out: number[] = [];
    let v = value;
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v > 0 || (overlong && out.length < 4)) byte |= 0x80;
      out.push(byte);
    } while (v > 0 || (overlong && out.length < 5));
    return out;
  }

  /** Offset of the body: 1 header byte plus the remaining-length bytes. */
  function bodyOffset(bytes: Buffer): number {
    let i = 1;
    while (i < bytes.length && i < 5 && (bytes[i] as number) & 0x80) i++;
    return i + 1;
  }

  function mutate(bytes: Buffer, mutation: PacketMutation): Buffer {
    switch (mutation) {
      case "valid":
        return bytes;
      case "bitflip": {
        const out = Buffer.from(bytes);
        for (let n = rng.between(1, 4); n > 0; n--) {
          const i = rng.int(out.length);
          out[i] = (out[i] as number) ^ (1 << rng.int(8));
        }
        return out;
      }
      case "byte": {
        const out = Buffer.from(bytes);
        out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
        return out;
      }
      case "header": {
        // Any packet type (including reserved 0 and 15, AUTH) with any flags.
        const out = Buffer.from(bytes);
        out[0] = rng.int(256);
        return out;
      }
      case "length": {
        const body = bytes.subarray(bodyOffset(bytes));
        const declared = rng.pick([
          0,
          Math.max(0, body.length - rng.between(1, 4)),
          body.length + rng.between(1, 16),
          rng.between(1000, 100_000),
          268_435_455, // the largest remaining length MQTT can express
        ]);
        const length = rng.chance(0.15)
          ? [0xff, 0xff, 0xff, 0xff, 0x7f]
          : remainingLength(declared, rng.chance(0.1));
        return Buffer.concat([bytes.subarray(0, 1), Buffer.from(length), body]);
      }
      case "truncate":
        return bytes.subarray(0, rng.int(bytes.length));
      case "extend":
        return Buffer.concat([bytes, Buffer.from(rng.bytes(rng.between(1, 32)))]);
      case "splice": {
        const other = encoded(packet());
        return Buffer.concat([
          bytes.subarray(0, rng.int(bytes.length + 1)),
          other.subarray(rng.int(other.length + 1)),
        ]);
      }
      case "noise":
        return Buffer.from(rng.bytes(rng.between(1, 200)));
    }
  }

  return {
    /** One raw socket's worth: a CONNECT (mutated in a quarter of sessions) and up to 8 packets. */
    session(): RawSession {
      const clientId = `raw-${sessions++}`;
      const mutations: PacketMutation[] = [];
      const parts: Buffer[] = [];
      const connectMutation: PacketMutation = rng.chance(0.25) ? rng.weighted(MIX) : "valid";
      parts.push(mutate(encoded(connect(clientId)), connectMutation));
      mutations.push(connectMutation);
      for (let n = rng.between(1, 8); n > 0; n--) {
        const m = rng.weighted(MIX);
        parts.push(mutate(encoded(packet()), m));
        mutations.push(m);
      }
      const all = Buffer.concat(parts);
      // Written whole, or cut at random points so packets straddle reads.
      const chunks: Buffer[] = [];
      let from = 0;
      for (let cuts = rng.chance(0.7) ? 0 : rng.between(1, 3); cuts > 0 && from < all.length; cuts--) {
        const to = rng.between(from, all.length);
        chunks.push(all.subarray(from, to));
        from = to;
      }
      chunks.push(all.subarray(from));
      return { clientId, chunks, mutations };
    },
  };
}
