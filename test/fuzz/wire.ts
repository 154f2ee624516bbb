// A protobuf wire-format writer for hand-made field-level mutations: tags with any wire type and field
// number, varints of any length (including invalid overlong ones), lengths that lie.

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

export class Wire {
  readonly #out: number[] = [];

  /** Base-128 varint of a non-negative value; negative values are written as 64-bit two's complement. */
  varint(value: bigint | number): this {
    let v = BigInt(value);
    if (v < 0n) v = BigInt.asUintN(64, v);
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.#out.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    return this;
  }

  /** An invalid varint: `length` continuation bytes (more than the 10 a 64-bit value can take) then an end. */
  overlongVarint(length: number): this {
    for (let i = 0; i < length; i++) this.#out.push(0xff);
    this.#out.push(0x01);
    return this;
  }

  tag(field: number | bigint, wireType: number): this {
    return this.varint((BigInt(field) << 3n) | BigInt(wireType & 7));
  }

  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.#out.push((bytes[i] as number) & 0xff);
    return this;
  }

  /** A length-delimited field whose declared length may differ from the bytes that follow. */
  bytesField(field: number, bytes: ArrayLike<number>, declaredLength: number | bigint = bytes.length): this {
    return this.tag(field, WIRE.bytes).varint(declaredLength).raw(bytes);
  }

  fixed32(value: number): this {
    return this.raw([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
  }

  fixed64(lo: number, hi: number): this {
    return this.fixed32(lo).fixed32(hi);
  }

  get length(): number {
    return this.#out.length;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
