// Framing of the bytes a broker sends: where one MQTT control packet ends. Pure; lets every connection hand
// only whole packets to one shared parser.

/** Longest remaining length MQTT allows (four length bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * Total size in bytes of the control packet starting at `offset` (fixed header included), 0 when the
 * length field is not complete yet, -1 when it is malformed (more than four length bytes).
 */
export function packetSize(bytes: Uint8Array, offset: number, end: number = bytes.length): number {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const at = offset + i;
    if (at >= end) return 0;
    const byte = bytes[at] as number;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + remaining;
    multiplier *= 128;
  }
  return -1;
}
