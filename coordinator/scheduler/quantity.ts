// Kubernetes resource.Quantity, exactly: the same grammar, the same round-up-to-nano rule, the same
// BinarySI cap and the same canonical form as k8s.io/apimachinery/pkg/api/resource (quantity.go,
// suffix.go, amount.go). Values are kept as an exact bigint count of nano-units, so no float ever
// touches a quantity.
import { QuantityError } from "./errors.ts";

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export interface Quantity {
  /** Exact value in units of 10^-9. Parsing rounds up (away from zero) to this precision, as Kubernetes does. */
  readonly nanos: bigint;
  /** Remembered from the suffix, used again when formatting. */
  readonly format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const MILLI_IN_NANO = 1_000_000n;
const MAX_INT64 = 9_223_372_036_854_775_807n;
// resource.maxAllowed: BinarySI amounts are capped at 2^63-1 (quantity.go "The max is just a simple cap").
const MAX_BINARY_NANOS = MAX_INT64 * NANO;
// Kubernetes keeps larger DecimalSI values as arbitrary decimals; nothing can use them (Value() overflows
// int64), so we refuse magnitudes of 10^40 and above instead of allocating unbounded bigints.
const MAX_INTEGER_DIGITS = 40;
const MAX_INT32 = 2_147_483_647;

const DECIMAL_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const BINARY_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["Ki", 10],
  ["Mi", 20],
  ["Gi", 30],
  ["Ti", 40],
  ["Pi", 50],
  ["Ei", 60],
]);
const DECIMAL_BY_EXPONENT: ReadonlyMap<number, string> = new Map(
  [...DECIMAL_SUFFIXES].map(([suffix, exp]) => [exp, suffix]),
);
const BINARY_BY_EXPONENT: ReadonlyMap<number, string> = new Map(
  [...BINARY_SUFFIXES].map(([suffix, exp]) => [exp, suffix]),
);
const SUFFIX_CHARS = "eEinumkKMGTP";
const GO_INT = /^[+-]?[0-9]+$/;

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";

// A transcription of quantity.go parseQuantityString, quirks included ("." and "+" scan as zero).
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") {
      pos++;
    }
  }
  let i = pos;
  for (; ; i++) {
    if (i >= end) return { positive, num: "0", denom: "", suffix: "" };
    if (str[i] !== "0") break;
    pos++;
  }
  let num = "";
  for (i = pos; ; i++) {
    if (i >= end) return { positive, num: str.slice(pos, end), denom: "", suffix: "" };
    if (!isDigit(str[i] as string)) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    for (i = pos; ; i++) {
      if (i >= end) return { positive, num, denom: str.slice(pos, end), suffix: "" };
      if (!isDigit(str[i] as string)) {
        denom = str.slice(pos, i);
        pos = i;
        break;
      }
    }
  }
  const suffixStart = pos;
  for (i = pos; ; i++) {
    if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart, end) };
    if (!SUFFIX_CHARS.includes(str[i] as string)) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  for (i = pos; ; i++) {
    if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart, end) };
    if (!isDigit(str[i] as string)) break;
  }
  throw new QuantityError(
    str,
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  );
}

interface Interpreted {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

// suffix.go interpret(): table suffixes first, then "e"/"E" followed by an int32 exponent.
function interpret(input: string, suffix: string): Interpreted {
  const dec = DECIMAL_SUFFIXES.get(suffix);
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES.get(suffix);
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    const digits = suffix.slice(1);
    if (GO_INT.test(digits)) {
      const value = BigInt(digits);
      if (value >= -BigInt(MAX_INT32) && value <= BigInt(MAX_INT32)) {
        return { base: 10, exponent: Number(value), format: "DecimalExponent" };
      }
    }
  }
  throw new QuantityError(input, "unable to parse quantity's suffix");
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? (a + b - 1n) / b : a / b);

const PARSE_MEMO_LIMIT = 4096;
const parsed = new Map<string, Quantity>();

/** Parses a Kubernetes quantity ("100m", "1.5Gi", "1e3", "-2", ".5"). Throws QuantityError (K3SF_ERR_QUANTITY). */
export function parseQuantity(input: string): Quantity {
  const cached = parsed.get(input);
  if (cached !== undefined) return cached;
  const q = Object.freeze(parseUncached(input));
  // The same few strings ("100m", "128Mi") recur in every pod of a fleet; a bounded memo makes
  // building a 150,000-pod snapshot and compiling each incoming pod cheap.
  if (parsed.size >= PARSE_MEMO_LIMIT) parsed.clear();
  parsed.set(input, q);
  return q;
}

function parseUncached(input: string): Quantity {
  if (typeof input !== "string") throw new QuantityError(String(input), "not a string");
  if (input.length === 0) throw new QuantityError(input, "empty string");
  if (input === "0") return { nanos: 0n, format: "DecimalSI" };
  const { positive, num, denom, suffix } = scan(input);
  const { base, exponent, format: parsedFormat } = interpret(input, suffix);
  const mantissa = BigInt(num + denom);
  if (mantissa === 0n) return { nanos: 0n, format: parsedFormat };
  const mantissaDigits = mantissa.toString().length;
  let nanos: bigint;
  let format = parsedFormat;
  if (base === 10) {
    if (mantissaDigits + exponent - denom.length > MAX_INTEGER_DIGITS) {
      throw new QuantityError(input, `magnitude of 10^${MAX_INTEGER_DIGITS} or more is not supported`);
    }
    const shift = exponent - denom.length + 9;
    if (shift >= 0) nanos = mantissa * 10n ** BigInt(shift);
    else if (-shift >= mantissaDigits)
      nanos = 1n; // below one nano: rounds up to 1n
    else nanos = ceilDiv(mantissa, 10n ** BigInt(-shift));
  } else {
    const scaled = mantissa * (1n << BigInt(exponent)) * NANO;
    nanos = ceilDiv(scaled, 10n ** BigInt(denom.length));
    if (nanos > MAX_BINARY_NANOS) nanos = MAX_BINARY_NANOS;
    // A fraction of one in binary form would be confusing; Kubernetes switches it to DecimalSI.
    if (nanos < NANO) format = "DecimalSI";
  }
  return { nanos: positive ? nanos : -nanos, format };
}

/** Builds mantissa × 10^exponent (like the tests' decQuantity), rounded up to nano precision. */
export function newQuantity(mantissa: bigint, exponent: number, format: QuantityFormat): Quantity {
  const shift = exponent + 9;
  if (shift >= 0) return { nanos: mantissa * 10n ** BigInt(shift), format };
  const divisor = 10n ** BigInt(-shift);
  const magnitude = ceilDiv(mantissa < 0n ? -mantissa : mantissa, divisor);
  return { nanos: mantissa < 0n ? -magnitude : magnitude, format };
}

export const quantityFromMilli = (milli: bigint, format: QuantityFormat = "DecimalSI"): Quantity => ({
  nanos: milli * MILLI_IN_NANO,
  format,
});

export const quantityFromUnits = (units: bigint, format: QuantityFormat = "DecimalSI"): Quantity => ({
  nanos: units * NANO,
  format,
});

/** resource.Quantity.MilliValue(): ceil(q × 1000). Used for CPU. */
export const toMilli = (q: Quantity): bigint => ceilDiv(q.nanos, MILLI_IN_NANO);

/** resource.Quantity.Value(): ceil(q). Used for memory, ephemeral storage, pods and extended resources. */
export const toUnits = (q: Quantity): bigint => ceilDiv(q.nanos, NANO);

export const compareQuantities = (a: Quantity, b: Quantity): -1 | 0 | 1 =>
  a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;

// amount.go AsCanonicalBytes: strip factors of ten, then lower the exponent to a multiple of three.
function decimalBody(abs: bigint, format: QuantityFormat): string {
  let mantissa = abs;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  if (format === "DecimalExponent") return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  // DecimalSI has no suffix past E or below n; fall back to exponent notation rather than lose magnitude.
  const suffix = DECIMAL_BY_EXPONENT.get(exponent);
  return suffix === undefined ? `${mantissa}e${exponent}` : `${mantissa}${suffix}`;
}

/** Quantity.String(): the canonical Kubernetes form ("1500m", "1Gi", "512Mi", "2", "1e3"). */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return "0";
  const negative = q.nanos < 0n;
  const abs = negative ? -q.nanos : q.nanos;
  let format = q.format;
  // BinarySI between -1024 and 1024, or with a fractional part, is shown as DecimalSI (quantity.go).
  if (format === "BinarySI" && (abs < 1024n * NANO || abs % NANO !== 0n)) format = "DecimalSI";
  let body: string;
  if (format === "BinarySI") {
    let amount = abs / NANO;
    let exponent = 0;
    while (amount >= 1024n && amount % 1024n === 0n) {
      amount /= 1024n;
      exponent += 10;
    }
    const suffix = exponent === 0 ? "" : BINARY_BY_EXPONENT.get(exponent);
    body = suffix === undefined ? decimalBody(abs, "DecimalExponent") : `${amount}${suffix}`;
  } else {
    body = decimalBody(abs, format);
  }
  return negative ? `-${body}` : body;
}
