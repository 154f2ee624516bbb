// Encoding and decoding of contract payloads. Decoding never throws: a bad payload is a value.
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CONTRACT, type TopicKind } from "./topics.ts";

type SchemaOf<K extends TopicKind> = (typeof CONTRACT)[K]["schema"];
export type MessageOf<K extends TopicKind> = MessageShape<SchemaOf<K>>;
export type MessageInit<K extends TopicKind> = MessageInitShape<SchemaOf<K>>;

export type DecodeResult<K extends TopicKind> =
  | { ok: true; message: MessageOf<K> }
  | { ok: false; reason: "decode_error" | "oversized"; detail: string };

export function createMessage<K extends TopicKind>(kind: K, init: MessageInit<K>): MessageOf<K> {
  // The contract table pairs each kind with its schema; TypeScript cannot follow that through the generic.
  return create(CONTRACT[kind].schema as SchemaOf<K>, init as never) as MessageOf<K>;
}

export function encode<K extends TopicKind>(kind: K, message: MessageOf<K>): Uint8Array {
  return toBinary(CONTRACT[kind].schema as SchemaOf<K>, message as never);
}

export function decode<K extends TopicKind>(
  kind: K,
  bytes: Uint8Array,
  maxBytes = Infinity,
): DecodeResult<K> {
  if (bytes.byteLength > maxBytes) {
    return { ok: false, reason: "oversized", detail: `${bytes.byteLength} bytes > limit ${maxBytes}` };
  }
  try {
    return { ok: true, message: fromBinary(CONTRACT[kind].schema as SchemaOf<K>, bytes) as MessageOf<K> };
  } catch (error) {
    return {
      ok: false,
      reason: "decode_error",
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Canonical proto3 JSON, what `--json` prints; `pretty` indents by two spaces. */
export function toJson<K extends TopicKind>(kind: K, message: MessageOf<K>, pretty = false): string {
  return toJsonString(
    CONTRACT[kind].schema as SchemaOf<K>,
    message as never,
    pretty ? { prettySpaces: 2 } : {},
  );
}

export function timestamp(ms: number): Timestamp {
  return timestampFromMs(ms);
}

/** Milliseconds since the epoch of a Timestamp, or undefined when absent. */
export function timestampMs(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : timestampDate(ts).getTime();
}

/** Canonical proto3 JSON of any contract message, including ones not bound to a topic (NodeSnapshot). */
export function messageToJson<S extends DescMessage>(
  schema: S,
  message: MessageShape<S>,
  pretty = false,
): string {
  return toJsonString(schema, message, pretty ? { prettySpaces: 2 } : {});
}
