// MQTT framing seen from outside the parser: follows the fixed headers (type byte + remaining length) of the
// byte stream a client sends and says when a packet must not be read at all. aedes' parser (mqtt-packet)
// buffers a packet whole before anyone can look at it, so a CONNECT announcing 256 MiB is held in memory
// before authentication; this guard lets the connection be dropped at the fixed header instead.
// Pure: bytes in, verdict out. The socket glue is connection-gate.ts.

export type FrameViolationReason =
  | "not_connect_first" // the first packet of a connection is not CONNECT [MQTT-3.1.0-1]
  | "connect_too_large" // CONNECT remaining length above maxConnectBytes
  | "packet_too_large" // any other packet above maxPacketBytes
  | "malformed_length"; // a remaining length longer than 4 bytes [MQTT-2.2.3]

export interface FrameViolation {
  reason: FrameViolationReason;
  detail: string;
}

export interface FrameGuardOptions {
  /** Largest CONNECT remaining length accepted (bytes). */
  maxConnectBytes: number;
  /** Largest remaining length of any later packet (bytes). */
  maxPacketBytes: number;
}

export interface FrameGuard {
  /** Follows `chunk`; a violation is final (later calls return it again). */
  feed(chunk: Uint8Array): FrameViolation | undefined;
  /** Complete fixed headers seen so far. */
  readonly packets: number;
}

const CONNECT = 1;

export function createFrameGuard(options: FrameGuardOptions): FrameGuard {
  const { maxConnectBytes, maxPacketBytes } = options;
  let phase: "type" | "length" | "body" = "type";
  let type = 0;
  let length = 0;
  let lengthBytes = 0;
  let bodyLeft = 0;
  let packets = 0;
  let violation: FrameViolation | undefined;

  function headerDone(): FrameViolation | undefined {
    const first = packets === 0;
    packets++;
    if (first && type !== CONNECT)
      return { reason: "not_connect_first", detail: `first packet has type ${type}, not CONNECT` };
    if (type === CONNECT && length > maxConnectBytes)
      return { reason: "connect_too_large", detail: `CONNECT of ${length} bytes > ${maxConnectBytes}` };
    if (type !== CONNECT && length > maxPacketBytes)
      return { reason: "packet_too_large", detail: `packet of ${length} bytes > ${maxPacketBytes}` };
    return undefined;
  }

  return {
    get packets() {
      return packets;
    },
    feed(chunk) {
      if (violation) return violation;
      let i = 0;
      while (i < chunk.length) {
        if (phase === "body") {
          const skip = Math.min(bodyLeft, chunk.length - i);
          bodyLeft -= skip;
          i += skip;
          if (bodyLeft === 0) phase = "type";
          continue;
        }
        const byte = chunk[i++] as number;
        if (phase === "type") {
          type = byte >> 4;
          length = 0;
          lengthBytes = 0;
          phase = "length";
          continue;
        }
        length += (byte & 0x7f) * 128 ** lengthBytes;
        lengthBytes++;
        if (byte & 0x80) {
          if (lengthBytes === 4) {
            violation = { reason: "malformed_length", detail: "remaining length longer than 4 bytes" };
            return violation;
          }
          continue;
        }
        violation = headerDone();
        if (violation) return violation;
        bodyLeft = length;
        phase = length === 0 ? "type" : "body";
      }
      return undefined;
    },
  };
}
