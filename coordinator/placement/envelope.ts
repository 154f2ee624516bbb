// The request id and reply topic of a ScheduleRequest that does not decode. Encoders write fields in
// number order, so request_id (1) and reply_to (2) come first: when only the tail of a payload is broken
// they can still be read, and the sender gets a `rejected` decision instead of silence. Pure.

export interface Envelope {
  requestId: string;
  replyTo: string;
}

const MAX_STRING = 1024;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads wire-format fields until the first malformed one; keeps fields 1 and 2 when they are strings. */
export function salvageEnvelope(bytes: Uint8Array): Envelope {
  const out: Envelope = { requestId: "", replyTo: "" };
  let pos = 0;
  const varint = (): number | undefined => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) break;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) break;
    if (wire === 0) {
      if (varint() === undefined) break;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (length === undefined || pos + length > bytes.length) break;
      if ((field === 1 || field === 2) && length <= MAX_STRING) {
        try {
          const text = decoder.decode(bytes.subarray(pos, pos + length));
          if (field === 1) out.requestId = text;
          else out.replyTo = text;
        } catch {
          break;
        }
      }
      pos += length;
    } else break;
    if (pos > bytes.length) break;
  }
  return out;
}
