import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { QuantityError } from "./errors.ts";
import {
  formatQuantity,
  newQuantity,
  parseQuantity,
  type QuantityFormat,
  toMilli,
  toUnits,
} from "./quantity.ts";

const MAX_INT64 = 9_223_372_036_854_775_807n;

// Cases from k8s.io/apimachinery/pkg/api/resource/quantity_test.go TestQuantityParse:
// [input, mantissa, exponent, format] with the expected value mantissa × 10^exponent.
const parseTable: Array<[string, bigint, number, QuantityFormat]> = [
  ["0", 0n, 0, "DecimalSI"],
  ["0n", 0n, 0, "DecimalSI"],
  ["0u", 0n, 0, "DecimalSI"],
  ["0m", 0n, 0, "DecimalSI"],
  ["0Ki", 0n, 0, "BinarySI"],
  ["0k", 0n, 0, "DecimalSI"],
  ["0Mi", 0n, 0, "BinarySI"],
  ["0M", 0n, 0, "DecimalSI"],
  ["0Gi", 0n, 0, "BinarySI"],
  ["0G", 0n, 0, "DecimalSI"],
  ["0Ti", 0n, 0, "BinarySI"],
  ["0T", 0n, 0, "DecimalSI"],
  ["1", 1n, 0, "DecimalSI"],
  ["1Ki", 1024n, 0, "BinarySI"],
  ["8Ki", 8n * 1024n, 0, "BinarySI"],
  ["7Mi", 7n * 1024n ** 2n, 0, "BinarySI"],
  ["6Gi", 6n * 1024n ** 3n, 0, "BinarySI"],
  ["5Ti", 5n * 1024n ** 4n, 0, "BinarySI"],
  ["4Pi", 4n * 1024n ** 5n, 0, "BinarySI"],
  ["3Ei", 3n * 1024n ** 6n, 0, "BinarySI"],
  ["10Ti", 10n * 1024n ** 4n, 0, "BinarySI"],
  ["100Ti", 100n * 1024n ** 4n, 0, "BinarySI"],
  ["5n", 5n, -9, "DecimalSI"],
  ["4u", 4n, -6, "DecimalSI"],
  ["3m", 3n, -3, "DecimalSI"],
  ["9", 9n, 0, "DecimalSI"],
  ["8k", 8n, 3, "DecimalSI"],
  ["50k", 5n, 4, "DecimalSI"],
  ["7M", 7n, 6, "DecimalSI"],
  ["6G", 6n, 9, "DecimalSI"],
  ["5T", 5n, 12, "DecimalSI"],
  ["40T", 4n, 13, "DecimalSI"],
  ["300T", 3n, 14, "DecimalSI"],
  ["2P", 2n, 15, "DecimalSI"],
  ["1E", 1n, 18, "DecimalSI"],
  ["1E-3", 1n, -3, "DecimalExponent"],
  ["1e3", 1n, 3, "DecimalExponent"],
  ["1E6", 1n, 6, "DecimalExponent"],
  ["1e9", 1n, 9, "DecimalExponent"],
  ["1E12", 1n, 12, "DecimalExponent"],
  ["1e15", 1n, 15, "DecimalExponent"],
  ["1E18", 1n, 18, "DecimalExponent"],
  ["1e14", 1n, 14, "DecimalExponent"],
  ["1e13", 1n, 13, "DecimalExponent"],
  ["100.035k", 100035n, 0, "DecimalSI"],
  ["0.001", 1n, -3, "DecimalSI"],
  ["0.0005k", 5n, -1, "DecimalSI"],
  ["0.005", 5n, -3, "DecimalSI"],
  ["0.05", 5n, -2, "DecimalSI"],
  ["0.5", 5n, -1, "DecimalSI"],
  ["0.00050k", 5n, -1, "DecimalSI"],
  ["0.00500", 5n, -3, "DecimalSI"],
  ["0.05000", 5n, -2, "DecimalSI"],
  ["0.50000", 5n, -1, "DecimalSI"],
  ["0.5e0", 5n, -1, "DecimalExponent"],
  ["0.5e-1", 5n, -2, "DecimalExponent"],
  ["0.5e-2", 5n, -3, "DecimalExponent"],
  ["10.035M", 10035n, 3, "DecimalSI"],
  ["1.2e3", 12n, 2, "DecimalExponent"],
  ["1.3E+6", 13n, 5, "DecimalExponent"],
  ["1.40e9", 14n, 8, "DecimalExponent"],
  ["1.53E12", 153n, 10, "DecimalExponent"],
  ["1.6e15", 16n, 14, "DecimalExponent"],
  ["1.7E18", 17n, 17, "DecimalExponent"],
  ["9.01", 901n, -2, "DecimalSI"],
  ["8.1k", 81n, 2, "DecimalSI"],
  ["7.123456M", 7123456n, 0, "DecimalSI"],
  ["6.987654321G", 6987654321n, 0, "DecimalSI"],
  ["5.444T", 5444n, 9, "DecimalSI"],
  ["40.1T", 401n, 11, "DecimalSI"],
  ["300.2T", 3002n, 11, "DecimalSI"],
  ["2.5P", 25n, 14, "DecimalSI"],
  ["1.01E", 101n, 16, "DecimalSI"],
  // Things that saturate/round
  ["3.001n", 4n, -9, "DecimalSI"],
  ["1.1E-9", 2n, -9, "DecimalExponent"],
  ["0.0000000001", 1n, -9, "DecimalSI"],
  ["0.0000000005", 1n, -9, "DecimalSI"],
  ["0.00000000050", 1n, -9, "DecimalSI"],
  ["0.5e-9", 1n, -9, "DecimalExponent"],
  ["0.9n", 1n, -9, "DecimalSI"],
  ["0.00000012345", 124n, -9, "DecimalSI"],
  ["0.00000012354", 124n, -9, "DecimalSI"],
  ["9Ei", MAX_INT64, 0, "BinarySI"],
  ["9223372036854775807Ki", MAX_INT64, 0, "BinarySI"],
  ["12E", 12n, 18, "DecimalSI"],
  // fractional binary
  ["100.035Ki", 10243584n, -2, "BinarySI"],
  ["0.5Mi", 524288n, 0, "BinarySI"],
  ["0.05Gi", 536870912n, -1, "BinarySI"],
  ["0.025Ti", 274877906944n, -1, "BinarySI"],
  // "things written by trolls"
  ["0.000000000001Ki", 2n, -9, "DecimalSI"],
  [".001", 1n, -3, "DecimalSI"],
  [".0001k", 100n, -3, "DecimalSI"],
  ["1.", 1n, 0, "DecimalSI"],
  ["1.G", 1n, 9, "DecimalSI"],
];

describe("parseQuantity (k8s quantity_test.go TestQuantityParse)", () => {
  it.each(parseTable)("%s", (input, mantissa, exponent, format) => {
    const expected = newQuantity(mantissa, exponent, format);
    const got = parseQuantity(input);
    expect(got.nanos).toBe(expected.nanos);
    expect(got.format).toBe(format);
  });

  it.each(parseTable)("-%s is the negation", (input, mantissa, exponent, format) => {
    const got = parseQuantity(`-${input}`);
    expect(got.nanos).toBe(-newQuantity(mantissa, exponent, format).nanos);
    expect(got.format).toBe(format);
  });

  it.each(parseTable)("+%s is the same value", (input, mantissa, exponent, format) => {
    expect(parseQuantity(`+${input}`)).toEqual(newQuantity(mantissa, exponent, format));
  });

  const invalid = [
    "",
    "1.1.M",
    "1+1.0M",
    "0.1mi",
    "0.1am",
    "aoeu",
    ".5i",
    "1i",
    "-3.01i",
    "-3.01e-",
    "1e4294967297",
    " 1",
    "1 ",
    "1Kib",
    "1KI",
    "Non-Numeric",
  ];
  it.each(invalid)("rejects %j with a coded QuantityError", (input) => {
    let caught: unknown;
    try {
      parseQuantity(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QuantityError);
    expect((caught as QuantityError).code).toBe("K3SF_ERR_QUANTITY");
    expect((caught as QuantityError).message).toContain(JSON.stringify(input));
  });

  it("reproduces the scanner quirks of parseQuantityString ('.', '-.' and '+' are zero)", () => {
    expect(parseQuantity(".").nanos).toBe(0n);
    expect(parseQuantity("-.").nanos).toBe(0n);
    expect(parseQuantity("+").nanos).toBe(0n);
  });

  it("refuses absurd magnitudes instead of allocating unbounded bigints", () => {
    expect(() => parseQuantity("1e40")).toThrow(QuantityError);
    expect(parseQuantity("1e39").nanos).toBe(10n ** 48n);
    expect(parseQuantity("1e-2147483647").nanos).toBe(1n);
  });
});

describe("formatQuantity (k8s TestQuantityString / TestQuantityParseEmit)", () => {
  // [mantissa, exponent, format, canonical, alternate spelling that must canonicalise the same]
  const table: Array<[bigint, number, QuantityFormat, string, string]> = [
    [1024n ** 3n, 0, "BinarySI", "1Gi", "1024Mi"],
    [300n * 1024n ** 2n, 0, "BinarySI", "300Mi", "307200Ki"],
    [6n * 1024n, 0, "BinarySI", "6Ki", ""],
    [1001n * 1024n ** 3n, 0, "BinarySI", "1001Gi", "1025024Mi"],
    [1024n ** 4n, 0, "BinarySI", "1Ti", "1024Gi"],
    [5n, 0, "BinarySI", "5", "5000m"],
    [500n, -3, "BinarySI", "500m", "0.5"],
    [1n, 9, "DecimalSI", "1G", "1000M"],
    [1000n, 6, "DecimalSI", "1G", "0.001T"],
    [1000000n, 3, "DecimalSI", "1G", ""],
    [1000000000n, 0, "DecimalSI", "1G", ""],
    [1n, -3, "DecimalSI", "1m", "1000u"],
    [80n, -3, "DecimalSI", "80m", ""],
    [1080n, -3, "DecimalSI", "1080m", "1.08"],
    [108n, -2, "DecimalSI", "1080m", "1080000000n"],
    [10800n, -4, "DecimalSI", "1080m", ""],
    [300n, 6, "DecimalSI", "300M", ""],
    [1n, 12, "DecimalSI", "1T", ""],
    [1n, 18, "DecimalSI", "1E", ""],
    [1n, 21, "DecimalSI", "1e21", "1000E"],
    [5n, 21, "DecimalSI", "5e21", "5000E"],
    [1234567n, 6, "DecimalSI", "1234567M", ""],
    [1234567n, -3, "BinarySI", "1234567m", ""],
    [3n, 3, "DecimalSI", "3k", ""],
    [1025n, 0, "BinarySI", "1025", ""],
    [0n, 0, "DecimalSI", "0", ""],
    [0n, 0, "BinarySI", "0", ""],
    [1n, 9, "DecimalExponent", "1e9", ".001e12"],
    [1n, -3, "DecimalExponent", "1e-3", "0.001e0"],
    [1n, -9, "DecimalExponent", "1e-9", "1000e-12"],
    [80n, -3, "DecimalExponent", "80e-3", ""],
    [300n, 6, "DecimalExponent", "300e6", ""],
    [1n, 12, "DecimalExponent", "1e12", ""],
    [1n, 3, "DecimalExponent", "1e3", ""],
    [3n, 3, "DecimalExponent", "3e3", ""],
    [0n, 0, "DecimalExponent", "0", "00"],
    [1n, -9, "DecimalSI", "1n", ""],
    [80n, -9, "DecimalSI", "80n", ""],
    [1080n, -9, "DecimalSI", "1080n", ""],
    [108n, -8, "DecimalSI", "1080n", ""],
    [10800n, -10, "DecimalSI", "1080n", ""],
    [1n, -6, "DecimalSI", "1u", ""],
    [80n, -6, "DecimalSI", "80u", ""],
    [1080n, -6, "DecimalSI", "1080u", ""],
  ];
  it.each(table)("%s×10^%s %s → %s", (mantissa, exponent, format, canonical, alternate) => {
    const q = newQuantity(mantissa, exponent, format);
    expect(formatQuantity(q)).toBe(canonical);
    expect(formatQuantity(parseQuantity(canonical))).toBe(canonical);
    if (alternate) expect(formatQuantity(parseQuantity(alternate))).toBe(canonical);
    if (mantissa !== 0n) expect(formatQuantity({ nanos: -q.nanos, format })).toBe(`-${canonical}`);
  });

  it("keeps a BinarySI value with a zero binary exponent as plain digits (TestBinarySIZeroExponentString)", () => {
    expect(formatQuantity(newQuantity(2000n, 0, "BinarySI"))).toBe("2000");
    expect(formatQuantity(newQuantity(-2000n, 0, "BinarySI"))).toBe("-2000");
  });

  const emit: Array<[string, string]> = [
    ["1Ki", "1Ki"],
    ["1Mi", "1Mi"],
    ["1Gi", "1Gi"],
    ["1024Mi", "1Gi"],
    ["1000M", "1G"],
    [".001Ki", "1024m"],
    [".000001Ki", "1024u"],
    [".000000001Ki", "1024n"],
    [".000000000001Ki", "2n"],
    ["1.5", "1500m"],
    ["1.5Gi", "1536Mi"],
    ["512Mi", "512Mi"],
    ["2", "2"],
  ];
  it.each(emit)("%s re-emits as %s", (input, canonical) => {
    expect(formatQuantity(parseQuantity(input))).toBe(canonical);
    expect(formatQuantity(parseQuantity(`-${input}`))).toBe(`-${canonical}`);
  });

  it("falls back to an exact decimal for binary values past Ei (2^70)", () => {
    expect(formatQuantity({ nanos: 2n ** 70n * 1_000_000_000n, format: "BinarySI" })).toBe(
      "1180591620717411303424",
    );
  });
});

describe("toMilli / toUnits (MilliValue / Value round up)", () => {
  const table: Array<[string, bigint, bigint]> = [
    ["1.5", 1500n, 2n],
    ["0.1m", 1n, 1n],
    ["100m", 100n, 1n],
    ["1", 1000n, 1n],
    ["2Gi", 2147483648000n, 2147483648n],
    ["100.035Ki", 102435840n, 102436n],
    ["1n", 1n, 1n],
    ["0", 0n, 0n],
  ];
  it.each(table)("%s → %s milli, %s units", (input, milli, units) => {
    const q = parseQuantity(input);
    expect(toMilli(q)).toBe(milli);
    expect(toUnits(q)).toBe(units);
  });
});

describe("properties", () => {
  // Within int64 magnitude: past it Kubernetes itself caps BinarySI on re-parse.
  it("formatting then parsing preserves the exact value", () => {
    const formats: QuantityFormat[] = ["DecimalSI", "BinarySI", "DecimalExponent"];
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }),
        fc.integer({ min: -9, max: 12 }),
        fc.constantFrom(...formats),
        (mantissa, exponent, format) => {
          const q = newQuantity(mantissa, exponent, format);
          expect(parseQuantity(formatQuantity(q)).nanos).toBe(q.nanos);
        },
      ),
    );
  });

  it("sums of parsed quantities are exact (no float drift)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 50 }), (millis) => {
        const total = millis.reduce(
          (sum, m) => sum + parseQuantity(`0.${String(m).padStart(3, "0")}`).nanos,
          0n,
        );
        expect(total).toBe(BigInt(millis.reduce((a, b) => a + b, 0)) * 1_000_000n);
      }),
    );
  });
});
